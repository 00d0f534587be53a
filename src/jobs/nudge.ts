// The weekly sync nudge (SPEC "Usage from the vendors"): for vendors with no per-user data (Adobe
// today), a tool sets sync_nudge and every member with an active seat there gets a DM each week
// with a button that opens a one-field modal ("what does the vendor show as your remaining
// credits?"), recorded as a sync. One DM per member and ISO week, naming each such tool they hold,
// queued through the outbox: the dedupe key makes it once per member per week however many
// replicas or runs ask, and the dispatcher keeps to Slack's rate limits.
import type { LedgerContext } from '../ledger/context.ts';
import { isoWeek } from './digest.ts';

/** A tool the member is asked about: what the DM's button and the modal say. */
export interface NudgeTool {
  key: string;
  name: string;
  unit: string;
}

/** The outbox payload of one member's weekly nudge. */
export interface SyncNudgePayload {
  kind: 'sync_nudge';
  slackId: string;
  /** The ISO week (`2026-W20`, in the org's zone) it is for. */
  week: string;
  tools: NudgeTool[];
}

/**
 * Nudges are spread over time, one every this many ms, so a large org's DMs leave at a pace Slack
 * takes (several hundred messages a minute workspace-wide) instead of as one burst of 429s.
 */
export const nudge_spacing_ms = 250;

export interface NudgeResult {
  /** DMs queued now (a repeat of the week queues none). */
  queued: number;
  /** Members with a seat in a nudged tool but no Slack id: nobody to ask. */
  withoutSlackId: number;
}

/**
 * Queues this week's nudge for every member with an active seat in a tool with sync_nudge, once
 * per member and ISO week of `scheduledAt` (in the org's zone), in one transaction. Out: how many
 * were queued, and how many members could not be asked for want of a Slack id.
 */
export async function enqueueSyncNudges(ctx: LedgerContext, scheduledAt: Date, now: Date = ctx.now()): Promise<NudgeResult> {
  const week = isoWeek(scheduledAt, ctx.settings.zone);
  return ctx.db.transaction(async (tx) => {
    const members = await tx.query<{ memberId: number; slackId: string | null; tools: NudgeTool[] }>(
      `select m.id as "memberId", m.slack_id as "slackId",
              json_agg(json_build_object('key', t.key, 'name', t.name, 'unit', t.unit) order by t.created_at, t.key) as tools
       from seats s join tools t on t.key = s.tool_key and t.sync_nudge
       join members m on m.id = s.member_id
       where s.status = 'active'
       group by m.id, m.slack_id order by m.id`,
    );
    const asked = members.filter((m): m is typeof m & { slackId: string } => m.slackId !== null);
    if (asked.length === 0) return { queued: 0, withoutSlackId: members.length };
    const messages = asked.map((m, i) => ({
      k: `sync_nudge:${m.memberId}:${week}`,
      p: { kind: 'sync_nudge', slackId: m.slackId, week, tools: m.tools } satisfies SyncNudgePayload,
      a: new Date(now.getTime() + i * nudge_spacing_ms).toISOString(),
    }));
    const queued = await tx.query(
      `insert into outbox (kind, dedupe_key, payload, created_at, available_at)
       select 'sync_nudge', r.k, r.p, $2, r.a from json_to_recordset($1::json) as r(k text, p jsonb, a timestamptz)
       on conflict (dedupe_key) do nothing returning id`,
      [JSON.stringify(messages), now],
    );
    return { queued: queued.length, withoutSlackId: members.length - asked.length };
  });
}
