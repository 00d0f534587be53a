// The outbox dispatcher: claims due messages with SKIP LOCKED under a lease, sends them through
// the Slack Web API without holding a transaction, and marks each sent once. A replica that
// dies mid-send leaves its claims to expire and be picked up again; Retry-After pushes a
// message (and this dispatcher) back; other failures back off and, past a limit, give up.
import type { AlertPayload } from '../ledger/alerts.ts';
import type { LedgerContext } from '../ledger/context.ts';
import type { RequestOutcomePayload } from '../ledger/requests.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Digest, LegacyDigest } from './digest.ts';
import { loadTools } from '../ledger/tools.ts';
import { alertMessage, digestMessage, requestOutcomeMessage, type SlackMessage } from './messages.ts';
import type { SyncNudgePayload } from './nudge.ts';
import { syncNudgeMessage } from '../slack/blocks/nudge.ts';

/** Messages claimed per round. */
export const claim_batch_max = 50;
/** How long a claim holds before another dispatcher may take the message. */
export const claim_lease_ms = 60_000;
/** Slack allows about one message per second per channel. */
export const channel_spacing_ms = 1_100;
export const attempts_max = 8;
export const retry_delay_ms_max = 10 * 60_000;

export type SendResult = { ok: true } | { ok: false; error: string; retryAfterMs?: number; permanent?: boolean };

export interface SlackSender {
  postMessage(channel: string, message: SlackMessage): Promise<SendResult>;
}

/** Errors that will not go away by trying again. */
const permanent_errors = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'user_not_found', 'invalid_auth', 'account_inactive', 'no_permission', 'missing_scope', 'invalid_blocks', 'msg_too_long']);
/** A Slack call that hangs is abandoned after this long; the lease brings the message back. */
export const request_timeout_ms = 10_000;
/** Time allowed after Slack's answer to mark the message sent, before the lease may run out. */
const mark_sent_margin_ms = 5_000;
/**
 * A send starts only while this much of the claim's lease is left: a round that a slow Slack
 * has dragged on hands its remaining messages back rather than send one another dispatcher
 * may already have claimed again (and sent) after the lease ran out.
 */
const lease_left_to_send_ms_min = request_timeout_ms + mark_sent_margin_ms;

/** chat.postMessage over fetch: form-encoded, with blocks as a JSON string, as Slack expects. */
export function slackSender(options: { botToken: string; apiUrl?: string; fetch?: typeof fetch }): SlackSender {
  const base = (options.apiUrl ?? 'https://slack.com/api/').replace(/\/?$/, '/');
  return {
    async postMessage(channel, message) {
      const doFetch = options.fetch ?? globalThis.fetch;
      let response: Response;
      try {
        response = await doFetch(`${base}chat.postMessage`, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.botToken}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ channel, text: message.text, blocks: JSON.stringify(message.blocks) }),
          signal: AbortSignal.timeout(request_timeout_ms),
        });
      } catch (error) {
        return { ok: false, error: `Slack unreachable: ${(error as Error).message}` };
      }
      if (response.status === 429) {
        const seconds = Number(response.headers.get('retry-after'));
        return { ok: false, error: 'rate_limited', retryAfterMs: (Number.isFinite(seconds) && seconds > 0 ? seconds : 1) * 1000 };
      }
      if (!response.ok) return { ok: false, error: `Slack answered HTTP ${response.status}` };
      const body = (await response.json().catch(() => ({}))) as { ok?: boolean; error?: string };
      if (body.ok) return { ok: true };
      const error = body.error ?? 'unknown_error';
      return { ok: false, error, permanent: permanent_errors.has(error) };
    },
  };
}

export interface DispatcherDeps {
  ctx: LedgerContext;
  sender: SlackSender;
  adminChannelId?: string;
  alertChannelId?: string;
  log?: Logger;
  metrics?: Metrics;
}

interface Claimed {
  id: number;
  kind: string;
  payload: AlertPayload | RequestOutcomePayload | ({ kind: 'digest' } & (Digest | LegacyDigest)) | SyncNudgePayload;
  attempts: number;
}

export interface RoundResult {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  /** Set when Slack asked us to wait: the dispatcher sends nothing before then. */
  pausedUntil: Date | null;
}

/** Where a message goes, or why it cannot go anywhere. */
function destination(message: Claimed, deps: DispatcherDeps): { channel: string } | { problem: string } {
  const p = message.payload;
  if (p.kind === 'member_threshold' && p.audience === 'member') {
    return p.slackId ? { channel: p.slackId } : { problem: `${p.email ?? 'the member'} has no Slack user id` };
  }
  if (p.kind === 'request_outcome' || p.kind === 'sync_nudge') return { channel: p.slackId };
  if (p.kind === 'digest') return deps.adminChannelId ? { channel: deps.adminChannelId } : { problem: 'ADMIN_CHANNEL_ID is not set' };
  return deps.alertChannelId ? { channel: deps.alertChannelId } : { problem: 'ALERT_CHANNEL_ID is not set' };
}

/** `several`: the org has several tools, so a pool or a request names its tool. */
function render(message: Claimed, zone: string, several: boolean): SlackMessage {
  const p = message.payload;
  if (p.kind === 'digest') return digestMessage(p);
  if (p.kind === 'request_outcome') return requestOutcomeMessage(p, several);
  if (p.kind === 'sync_nudge') return syncNudgeMessage(p);
  return alertMessage(p, zone, several);
}

export class Dispatcher {
  #lastPostAt = new Map<string, number>();
  #pausedUntil = 0;
  constructor(private readonly deps: DispatcherDeps) {}

  /** One round: claim what is due, send it, record each outcome. */
  async round(): Promise<RoundResult> {
    const { ctx } = this.deps;
    const now = ctx.now();
    const result: RoundResult = { claimed: 0, sent: 0, retried: 0, failed: 0, pausedUntil: null };
    if (now.getTime() < this.#pausedUntil) return { ...result, pausedUntil: new Date(this.#pausedUntil) };
    const claimed = await ctx.db.query<Claimed>(
      `update outbox o set available_at = $2, attempts = o.attempts + 1
       where o.id in (select id from outbox where sent_at is null and available_at <= $1 order by available_at, id
                      limit $3 for update skip locked)
       returning o.id, o.kind, o.payload, o.attempts`,
      [now, new Date(now.getTime() + claim_lease_ms), claim_batch_max],
    );
    result.claimed = claimed.length;
    const several = claimed.length > 0 && (await loadTools(ctx.db, ctx.settings)).size > 1;
    const leaseEnd = now.getTime() + claim_lease_ms;
    const queue = claimed.sort((a, b) => a.id - b.id);
    for (const [index, message] of queue.entries()) {
      const at = ctx.now().getTime();
      if (at + lease_left_to_send_ms_min > leaseEnd) {
        const rest = queue.slice(index);
        await this.#handBack(rest);
        result.retried += rest.length;
        break;
      }
      const target = destination(message, this.deps);
      if ('problem' in target) {
        await this.#giveUp(message, target.problem);
        result.failed++;
        continue;
      }
      if (at < this.#pausedUntil) {
        await this.#retryAt(message, new Date(this.#pausedUntil), 'waiting for Slack rate limit', true);
        result.retried++;
        continue;
      }
      const spacingUntil = (this.#lastPostAt.get(target.channel) ?? 0) + channel_spacing_ms;
      if (at < spacingUntil) {
        await this.#retryAt(message, new Date(spacingUntil), 'spacing messages to one channel', true);
        result.retried++;
        continue;
      }
      this.#lastPostAt.set(target.channel, at);
      const sent = await this.deps.sender.postMessage(target.channel, render(message, ctx.settings.zone, several));
      if (sent.ok) {
        await ctx.db.query(`update outbox set sent_at = $2, last_error = null where id = $1 and sent_at is null`, [message.id, ctx.now()]);
        result.sent++;
        this.deps.metrics?.outboxSent.inc({ result: 'sent' });
      } else if (sent.retryAfterMs != null) {
        this.#pausedUntil = ctx.now().getTime() + sent.retryAfterMs;
        await this.#retryAt(message, new Date(this.#pausedUntil), sent.error, true);
        result.retried++;
      } else if (sent.permanent || message.attempts >= attempts_max) {
        await this.#giveUp(message, sent.error);
        result.failed++;
      } else {
        const delay = Math.min(retry_delay_ms_max, 1000 * 2 ** (message.attempts - 1));
        await this.#retryAt(message, new Date(ctx.now().getTime() + delay), sent.error, false);
        result.retried++;
      }
    }
    result.pausedUntil = this.#pausedUntil > ctx.now().getTime() ? new Date(this.#pausedUntil) : null;
    return result;
  }

  /** Back in the queue at `at`; a deferral that was not Slack's fault does not count as an attempt. */
  async #retryAt(message: Claimed, at: Date, reason: string, uncounted: boolean): Promise<void> {
    await this.deps.ctx.db.query(
      `update outbox set available_at = $2, last_error = $3, attempts = attempts - $4 where id = $1 and sent_at is null`,
      [message.id, at, reason, uncounted ? 1 : 0],
    );
    this.deps.metrics?.outboxSent.inc({ result: 'retried' });
  }

  /** Unsent claims released at once, as if never claimed, for this or another dispatcher. */
  async #handBack(messages: readonly Claimed[]): Promise<void> {
    await this.deps.ctx.db.query(
      `update outbox set available_at = $2, attempts = attempts - 1 where id = any($1::int8[]) and sent_at is null`,
      [messages.map((m) => m.id), this.deps.ctx.now()],
    );
  }

  async #giveUp(message: Claimed, reason: string): Promise<void> {
    await this.deps.ctx.db.query(`update outbox set available_at = 'infinity', last_error = $2 where id = $1 and sent_at is null`, [message.id, reason]);
    this.deps.log?.warn('outbox message given up', { id: message.id, kind: message.kind, reason });
    this.deps.metrics?.outboxSent.inc({ result: 'failed' });
  }
}
