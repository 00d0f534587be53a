// Credit requests: created from the request modal, decided once by an admin. The decision is a
// compare-and-set on the pending status, so a double click or a second admin changes nothing.
import type { Queryable } from '../db/client.ts';
import type { Ledger } from '../ledger/index.ts';
import { upsertMember } from '../ledger/members.ts';

export interface CreditRequest {
  id: number;
  slackId: string;
  credits: number;
  reason: string | null;
  status: 'pending' | 'approved' | 'denied';
  channelId: string | null;
  messageTs: string | null;
  decidedBy: string | null;
}

const columns = `r.id, m.slack_id as "slackId", r.credits, r.reason, r.status, r.channel_id as "channelId",
  r.message_ts as "messageTs", r.decided_by as "decidedBy"`;

/**
 * Files a request, unless the member already has the same one pending: then that one comes back
 * (created false), so a double submission or Slack's retry files nothing twice. The member's row
 * lock, taken by upsertMember, makes two submissions at once wait for each other.
 */
export async function createRequest(ledger: Ledger, slackId: string, credits: number, reason: string | null): Promise<{ request: CreditRequest; created: boolean }> {
  const { db, now } = ledger.ctx;
  return db.transaction(async (tx) => {
    const member = await upsertMember(tx, { slackId });
    const [pending] = await tx.query<{ id: number }>(
      `select id from credit_requests where member_id = $1 and status = 'pending' and credits = $2 and reason is not distinct from $3 order by id limit 1`,
      [member.id, credits, reason],
    );
    if (pending) return { request: (await loadRequest(tx, pending.id))!, created: false };
    const [row] = await tx.query<{ id: number }>(
      `insert into credit_requests (member_id, credits, reason, created_at) values ($1, $2, $3, $4) returning id`,
      [member.id, credits, reason, now()],
    );
    return { request: (await loadRequest(tx, row!.id))!, created: true };
  });
}

export async function loadRequest(db: Queryable, id: number): Promise<CreditRequest | undefined> {
  const [row] = await db.query<CreditRequest>(`select ${columns} from credit_requests r join members m on m.id = r.member_id where r.id = $1`, [id]);
  return row;
}

export async function rememberMessage(db: Queryable, id: number, channelId: string, messageTs: string): Promise<void> {
  await db.query(`update credit_requests set channel_id = $2, message_ts = $3 where id = $1`, [id, channelId, messageTs]);
}

/** Decides a pending request; undefined when someone already did (the caller shows who). */
export async function decideRequest(db: Queryable, id: number, status: 'approved' | 'denied', by: string, at: Date): Promise<CreditRequest | undefined> {
  const [row] = await db.query<{ id: number }>(
    `update credit_requests set status = $2, decided_by = $3, decided_at = $4 where id = $1 and status = 'pending' returning id`,
    [id, status, by, at],
  );
  return row ? loadRequest(db, id) : undefined;
}
