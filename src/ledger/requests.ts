// Credit requests: filed by a member, decided once by an admin. A decision is one transaction:
// the claim on the pending request, the grant an approval makes, and the requester's outcome DM
// queued in the outbox, so no crash or Slack outage leaves a decision without its grant or DM.
import type { Queryable } from '../db/client.ts';
import { adjustIn } from './adjust.ts';
import type { LedgerContext } from './context.ts';
import { invalid } from './errors.ts';
import { upsertMember } from './members.ts';
import { assignPackIn } from './packs.ts';
import { loadTools } from './tools.ts';

export interface CreditRequest {
  id: number;
  slackId: string;
  /** The tool the member asks credits of, its name and unit. */
  tool: string;
  toolName: string;
  unit: string;
  credits: number;
  reason: string | null;
  status: 'pending' | 'approved' | 'denied';
  channelId: string | null;
  messageTs: string | null;
  decidedBy: string | null;
}

/** What an approval grants: a free pack of a product, or an amount as a manual adjustment. */
export type RequestGrant = { pack: string } | { credits: number };

/** The requester's outcome DM as it waits in the outbox; the dispatcher renders and sends it. */
export interface RequestOutcomePayload {
  kind: 'request_outcome';
  requestId: number;
  slackId: string;
  /** The tool asked about, as people know it, and its unit ("credits", "premium requests"). */
  toolName?: string;
  unit?: string;
  /** What the member asked for. */
  credits: number;
  status: 'approved' | 'denied';
  decidedBy: string;
  /** What the approval granted (a pack by name, with the credits it brought now); null when denied. */
  granted: { pack: string; credits: number } | { credits: number } | null;
}

/** A decision made, or the request as someone else left it (undefined: there is no such request). */
export type Decision = { decided: true; request: CreditRequest; granted: RequestOutcomePayload['granted'] } | { decided: false; request: CreditRequest | undefined };

const columns = `r.id, m.slack_id as "slackId", r.tool_key as tool, t.name as "toolName", t.unit, r.credits, r.reason, r.status,
  r.channel_id as "channelId", r.message_ts as "messageTs", r.decided_by as "decidedBy"`;

/**
 * Files a request, unless the member already has the same one pending: then that one comes back
 * (created false), so a double submission or Slack's retry files nothing twice. The member's row
 * lock, taken by upsertMember, makes two submissions at once wait for each other.
 */
export async function fileRequest(
  ctx: LedgerContext, slackId: string, credits: number, reason: string | null, toolKey: string | null = null,
): Promise<{ request: CreditRequest; created: boolean }> {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const tool = (await loadTools(tx, ctx.settings)).pick(toolKey, 'a credit request');
    const member = await upsertMember(tx, { slackId });
    const [pending] = await tx.query<{ id: number }>(
      `select id from credit_requests where member_id = $1 and tool_key = $4 and status = 'pending' and credits = $2
         and reason is not distinct from $3 order by id limit 1`,
      [member.id, credits, reason, tool.key],
    );
    if (pending) return { request: (await loadRequest(tx, pending.id))!, created: false };
    const [row] = await tx.query<{ id: number }>(
      `insert into credit_requests (member_id, tool_key, credits, reason, created_at) values ($1, $2, $3, $4, $5) returning id`,
      [member.id, tool.key, credits, reason, now],
    );
    return { request: (await loadRequest(tx, row!.id))!, created: true };
  });
}

export async function loadRequest(db: Queryable, id: number): Promise<CreditRequest | undefined> {
  const [row] = await db.query<CreditRequest>(
    `select ${columns} from credit_requests r join members m on m.id = r.member_id join tools t on t.key = r.tool_key where r.id = $1`,
    [id],
  );
  return row;
}

/** Where the request was posted, so its decision can update that message. */
export async function rememberRequestMessage(ctx: LedgerContext, id: number, channelId: string, messageTs: string): Promise<void> {
  await ctx.db.query(`update credit_requests set channel_id = $2, message_ts = $3 where id = $1`, [id, channelId, messageTs]);
}

/**
 * Approves a pending request: claims it, grants the pack or amount, and queues the requester's
 * DM, all or nothing. A grant that fails (no free pack, no active seat) throws and leaves the
 * request pending; a request already decided comes back undecided with who decided it.
 */
export async function approveRequest(ctx: LedgerContext, input: { id: number; by: string; grant: RequestGrant }): Promise<Decision> {
  return decide(ctx, input.id, 'approved', input.by, async (tx, request, now) => {
    if ('pack' in input.grant) {
      const assigned = await assignPackIn(tx, ctx, { product: input.grant.pack, user: request.slackId, actor: input.by }, now);
      if (assigned.tool !== request.tool) throw invalid(`pack product ${input.grant.pack} is of ${assigned.tool}; the request is for ${request.tool}`);
      return { pack: assigned.productName, credits: assigned.credits };
    }
    const reason = `request ${request.id}${request.reason ? `: ${request.reason}` : ''}`;
    const adjusted = await adjustIn(tx, ctx, { user: request.slackId, tool: request.tool, credits: input.grant.credits, reason, actor: input.by }, now);
    return { credits: adjusted.credits };
  });
}

/** Denies a pending request and queues the requester's DM, in one transaction. */
export async function denyRequest(ctx: LedgerContext, input: { id: number; by: string }): Promise<Decision> {
  return decide(ctx, input.id, 'denied', input.by, async () => null);
}

async function decide(
  ctx: LedgerContext,
  id: number,
  status: 'approved' | 'denied',
  by: string,
  grant: (tx: Queryable, request: CreditRequest, now: Date) => Promise<RequestOutcomePayload['granted']>,
): Promise<Decision> {
  const now = ctx.now();
  const decision = await ctx.db.transaction(async (tx): Promise<Decision | undefined> => {
    // The compare-and-set on 'pending' holds the request's row lock until commit: a second admin
    // or a double click waits here, then finds it decided; if this transaction rolls back (the
    // grant failed), the waiter finds it pending and decides it.
    const [claimed] = await tx.query<{ id: number }>(
      `update credit_requests set status = $2, decided_by = $3, decided_at = $4 where id = $1 and status = 'pending' returning id`,
      [id, status, by, now],
    );
    if (!claimed) return undefined;
    const request = (await loadRequest(tx, id))!;
    const granted = await grant(tx, request, now);
    const payload: RequestOutcomePayload = {
      kind: 'request_outcome', requestId: id, slackId: request.slackId, toolName: request.toolName, unit: request.unit,
      credits: request.credits, status, decidedBy: by, granted,
    };
    // One outcome per request: the claim above lets a request be decided once, so a clash on the
    // dedupe key would be a bug, and it fails the decision loudly rather than lose the DM.
    await tx.query(`insert into outbox (kind, dedupe_key, payload, created_at, available_at) values ($1, $2, $3, $4, $4)`, [
      payload.kind,
      `request:${id}`,
      JSON.stringify(payload),
      now,
    ]);
    return { decided: true, request, granted };
  });
  return decision ?? { decided: false, request: await loadRequest(ctx.db, id) };
}
