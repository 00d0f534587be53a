// Writes that carry an idempotency key (for Slack: a command's trigger id, a modal's view id with
// a hash of its values): each key is applied once, concurrent deliveries included (SPEC: "Every
// write from Slack happens once"). The key is an opaque string; where it comes from is the caller's.
import type { Database, Queryable } from '../db/client.ts';
import type { LedgerContext } from './context.ts';
import { invalid, invariant } from './errors.ts';

/** Length of an idempotency key: a prefix, a Slack id and a SHA-256 in hex fit well inside. */
export const idempotency_key_length_max = 200;

/**
 * How long an applied key is kept, then pruned (pruneAppliedKeys, once a day). A key only has to
 * outlive the deliveries that repeat its write, and those come within minutes: Slack retries an
 * event or command three times over about five minutes, a trigger id works for 3 s, and a modal's
 * submission (view id and values) is sent again only while the modal is open. Thirty days is a
 * margin of thousands over that, and keeps a month of keys to look at when something went wrong.
 */
export const applied_key_retention_days = 30;
/** Keys deleted per statement when pruning, so no one statement holds locks on a whole month of them. */
export const prune_batch_keys_max = 10_000;

/**
 * A value JSON carries unchanged (no Date, undefined, function): a repeat of a key is handed the
 * stored JSON of the first outcome, so the first caller must see exactly the same shape.
 */
export type Plain<T> = T extends string | number | boolean | null
  ? T
  : T extends Date | bigint | symbol | undefined | ((...args: never[]) => unknown)
    ? never
    : T extends readonly (infer E)[]
      ? readonly Plain<E>[]
      : { [K in keyof T]: Plain<T[K]> };

export interface Applied<T> {
  /** What the first application returned; a repeat gets the same, read back from the database. */
  outcome: T;
  /** true when this call applied nothing because the key had been applied before (or concurrently). */
  replayed: boolean;
}

/**
 * Runs `work` once per `key`: in one transaction that first claims the key, then does the work
 * through a ledger context bound to that transaction (so every ledger function it calls commits or
 * rolls back with the claim), then stores the outcome. A second call with the key returns the
 * stored outcome with `replayed: true` and runs nothing. A concurrent second call blocks on the
 * key's unique index until the first commits (then reads its outcome) or rolls back (then claims
 * the key itself), so a failed or refused first attempt leaves the key free for a retry.
 *
 * Throws `invalid` for an empty key or one longer than idempotency_key_length_max characters;
 * whatever `work` throws propagates, with nothing written.
 */
export async function applyOnce<T>(ctx: LedgerContext, key: string, work: (inTransaction: LedgerContext) => Promise<T & Plain<T>>): Promise<Applied<T>> {
  if (key.length === 0 || key.length > idempotency_key_length_max) {
    throw invalid(`an idempotency key must be 1 to ${idempotency_key_length_max} characters`);
  }
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const [claimed] = await tx.query<{ key: string }>(
      `insert into applied_keys (key, applied_at) values ($1, $2) on conflict (key) do nothing returning key`,
      [key, now],
    );
    if (!claimed) {
      // The conflicting row is committed (an insert waits for the other transaction to end), and
      // under READ COMMITTED this new statement sees it.
      const [first] = await tx.query<{ outcome: T | null }>(`select outcome from applied_keys where key = $1`, [key]);
      invariant(first && first.outcome !== null, `applied key ${key} has no outcome`);
      return { outcome: first.outcome, replayed: true };
    }
    const outcome = await work(inTransaction(ctx, tx));
    // The first caller gets the outcome as stored, exactly as a repeat will (jsonb orders keys its own way).
    const [stored] = await tx.query<{ outcome: T }>(`update applied_keys set outcome = $2::jsonb where key = $1 returning outcome`, [
      key,
      JSON.stringify(outcome ?? null),
    ]);
    return { outcome: stored!.outcome, replayed: false };
  });
}

/**
 * Deletes the applied keys older than applied_key_retention_days before `now`, in statements of at
 * most prune_batch_keys_max keys, and returns how many it deleted. Keys of that age are never
 * delivered again (see applied_key_retention_days), so no write can apply twice for want of one.
 */
export async function pruneAppliedKeys(ctx: LedgerContext, now: Date = ctx.now()): Promise<number> {
  const before = new Date(now.getTime() - applied_key_retention_days * 86_400_000);
  let pruned = 0;
  for (;;) {
    const deleted = await ctx.db.query<{ key: string }>(
      `delete from applied_keys where key in (select key from applied_keys where applied_at < $1 limit $2) returning key`,
      [before, prune_batch_keys_max],
    );
    pruned += deleted.length;
    if (deleted.length < prune_batch_keys_max) return pruned;
  }
}

/**
 * The ledger's context with its database bound to one open transaction: a ledger function called
 * with it joins that transaction instead of opening its own. A deadlock or a lost race inside
 * propagates to the outer transaction, which runs again whole (key claim included). A caller
 * with rows of its own to commit together with a ledger write opens the transaction itself.
 */
export function inTransaction(ctx: LedgerContext, tx: Queryable): LedgerContext {
  const outer = ctx.db;
  const joined: Database = {
    kind: outer.kind,
    driver: outer.driver,
    query: (text, params, options) => tx.query(text, params, options),
    transaction: (fn) => fn(tx),
    exclusively: () => {
      throw new Error('an advisory lock cannot be taken inside a keyed write');
    },
    close: () => {
      throw new Error('a keyed write cannot close the database');
    },
  };
  return { ...ctx, db: joined };
}
