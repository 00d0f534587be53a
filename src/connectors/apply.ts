// Vendor rows recorded as usage, once (SPEC "Usage from the vendors"). A vendor row is a running
// total for its key (the person as the vendor names them, the UTC day, the kind of usage), so only
// what grew past what creditdesk recorded of that key becomes a usage event, whose id is derived
// from the key and the new total: reading a row again records nothing (the same id is a
// duplicate, and nothing grew), and a total that grew records just the growth.
//
// The totals live in vendor_totals and change in the same transaction as the usage they record.
// Each key's row is locked (FOR UPDATE) before its growth is worked out, so of two pulls reading
// one row at once the second waits, then finds the first's total and records only what grew past
// it. Every transaction inserts and locks its keys in one fixed order, so two pulls cannot
// deadlock on each other; the usage function then locks seats and grants as every ledger writer does.
import { createHash } from 'node:crypto';
import type { Queryable } from '../db/client.ts';
import { createLedger, type Ledger } from '../ledger/index.ts';
import { batch_events_max, credits_max } from '../ledger/limits.ts';
import { inTransaction } from '../ledger/once.ts';
import type { UsageEvent } from '../ledger/usage.ts';
import { chargeInstant, isDay } from './days.ts';

/** One vendor row: a running total for its key. */
export interface VendorRow {
  /** The person as the vendor names them: an email (Figma) or a login (GitHub); compared lower-cased. */
  vendorUser: string;
  /** The vendor's UTC day, `YYYY-MM-DD`. */
  day: string;
  /** What the total counts, e.g. `design:seat` or a Copilot model. */
  kind: string;
  /** The vendor's running total for the key: 0 or more, possibly fractional. */
  total: number;
  /** The usage event's feature: Figma's editor type, the Copilot model. */
  feature: string;
  /** 'pool': the vendor says these credits came from the plan-level pool (Figma's plan_credits_sum). */
  draw?: 'pool';
  /** Lines of the file the row was summed from (an import), for saying where a refused row came from. */
  lines?: number[];
}

/** Where rows are recorded, and how the vendor names people. */
export interface ConnectorTarget {
  /** The connector's name, which keys its totals: the CSV import and the pull of one vendor share them. */
  connector: string;
  /** The tool the usage is recorded in. */
  tool: string;
  /**
   * `vendor_user_or_email`: a seat's vendor_user in the tool, else the member's email (Figma names
   * people by email); `vendor_user`: the seat's vendor_user only (GitHub names them by login).
   */
  matchBy: 'vendor_user_or_email' | 'vendor_user';
  /** The usage events' source, e.g. "figma pull". */
  source: string;
}

/** Someone the vendor named who has no seat in the tool, with what their rows hold. */
export interface UnknownPerson {
  vendorUser: string;
  rows: number;
  /** Whole units their rows total: what would be recorded once they have a seat. */
  units: number;
}

/** A row the ledger (or its own shape) refused: nothing of it was recorded. */
export interface RefusedRow {
  vendorUser: string;
  day: string;
  kind: string;
  reason: string;
  lines?: number[];
}

export interface RecordedRows {
  /** Vendor rows given. */
  rows: number;
  /** Usage events recorded now, and the whole units they carried. */
  applied: number;
  units: number;
  /** Rows of known people with nothing new since the last time they were read. */
  unchanged: number;
  unknown: UnknownPerson[];
  refused: RefusedRow[];
}

/**
 * The whole units a running total stands for: the nearest whole number, halves up. Vendors such as
 * GitHub count fractional premium requests (a 0.33× model); the ledger counts whole credits. As
 * each key's recorded units follow its total, what is recorded over all pulls is the final total
 * rounded once, never a sum of roundings. The 1e-9 keeps a total of halves summed in binary
 * (2.4999999999999996) on the side it was meant to be.
 */
export const wholeUnits = (total: number): number => Math.round(total + 1e-9);

/** The usage event id of a key at `units` recorded: a repeat is the same id, growth a new one. */
export function vendorEventId(target: ConnectorTarget, row: Pick<VendorRow, 'vendorUser' | 'day' | 'kind'>, units: number): string {
  const key = createHash('sha256').update([target.tool, row.vendorUser, row.day, row.kind].join('\u001f')).digest('hex').slice(0, 32);
  return `${target.connector}:${key}:${units}`;
}

const keyOf = (row: Pick<VendorRow, 'vendorUser' | 'day' | 'kind'>) => `${row.vendorUser}\u001f${row.day}\u001f${row.kind}`;
/** The one order every transaction takes its keys in (byte order, as `collate "C"` sorts). */
const byKey = (a: VendorRow, b: VendorRow) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0);

function rowProblem(row: VendorRow): string | null {
  if (!row.vendorUser.trim()) return 'names nobody';
  if (!isDay(row.day)) return `has no UTC day (got "${row.day.slice(0, 30)}")`;
  if (!row.kind.trim()) return 'says nothing of what it counts';
  if (!Number.isFinite(row.total) || row.total < 0) return `has a total that is not a number of 0 or more (${String(row.total).slice(0, 30)})`;
  if (wholeUnits(row.total) > credits_max) return `has a total of ${row.total} units, more than any grant holds`;
  return null;
}

/** The members behind the vendor's names, by lower-cased vendor name: the ref a usage event takes. */
async function resolvePeople(tx: Queryable, target: ConnectorTarget, vendorUsers: string[]): Promise<Map<string, string>> {
  const found = await tx.query<{ vendorUser: string; ref: string; rank: number }>(
    `select v.u as "vendorUser", coalesce(m.slack_id, m.email) as ref, 0 as rank
     from unnest($2::text[]) as v(u)
     join seats s on s.tool_key = $1 and lower(s.vendor_user) = v.u
     join members m on m.id = s.member_id
     union all
     select v.u, coalesce(m.slack_id, m.email), 1
     from unnest($2::text[]) as v(u)
     join members m on lower(m.email) = v.u
     join seats s on s.member_id = m.id and s.tool_key = $1
     where $3
     order by rank`,
    [target.tool, vendorUsers, target.matchBy === 'vendor_user_or_email'],
  );
  const people = new Map<string, string>();
  // A seat's vendor_user names the person the vendor means even where an email names another member.
  for (const row of found) if (row.ref && !people.has(row.vendorUser)) people.set(row.vendorUser, row.ref);
  return people;
}

interface Stored {
  total: number;
  recorded: number;
}

/**
 * Records `input` in `target`'s tool: for each key of a person with a seat there, the whole units
 * its total grew past what was recorded become one usage event (at the latest moment of its day not
 * after now: see chargeInstant), and the key's recorded total moves with it, in one transaction.
 * Rows of one key given twice count once, at the larger total (a running total read twice); a
 * caller that has parts of one total (GitHub's CSV lists a model's SKUs apart) sums them first.
 * A total below what was recorded records nothing: usage is never taken back.
 * Out: counts, the people creditdesk does not know (not recorded, not stored: once they have a
 * seat, the next read records their rows), and the rows refused by their shape or by the ledger
 * (a revoked seat; a day older than the late-event grace window), also not stored.
 * Throws what the database throws; nothing of the rows is then recorded.
 */
export async function recordVendorRows(ledger: Ledger, target: ConnectorTarget, input: readonly VendorRow[]): Promise<RecordedRows> {
  const malformed: RefusedRow[] = [];
  const unique = new Map<string, VendorRow>();
  for (const given of input) {
    const row = { ...given, vendorUser: given.vendorUser.trim().toLowerCase(), kind: given.kind.trim() };
    const problem = rowProblem(row);
    if (problem) {
      malformed.push({ vendorUser: row.vendorUser, day: row.day, kind: row.kind, reason: `the row ${problem}`, lines: row.lines });
      continue;
    }
    const seen = unique.get(keyOf(row));
    if (!seen || row.total > seen.total) unique.set(keyOf(row), { ...row, lines: [...(seen?.lines ?? []), ...(row.lines ?? [])] });
  }
  const rows = [...unique.values()].sort(byKey);
  const empty: RecordedRows = { rows: input.length, applied: 0, units: 0, unchanged: 0, unknown: [], refused: malformed };
  if (rows.length === 0) return empty;
  const now = ledger.ctx.now();
  // Everything is worked out inside: the transaction runs again whole after a deadlock.
  return ledger.ctx.db.transaction(async (tx) => {
    const result: RecordedRows = { ...empty, unknown: [], refused: [...malformed] };
    const people = await resolvePeople(tx, target, [...new Set(rows.map((r) => r.vendorUser))]);
    const unknown = new Map<string, UnknownPerson>();
    const growing: VendorRow[] = [];
    for (const row of rows) {
      if (!people.has(row.vendorUser)) {
        const person = unknown.get(row.vendorUser) ?? { vendorUser: row.vendorUser, rows: 0, units: 0 };
        person.rows++;
        person.units += wholeUnits(row.total);
        unknown.set(row.vendorUser, person);
      } else if (wholeUnits(row.total) === 0) {
        result.unchanged++; // nothing to record, nothing worth a row
      } else {
        growing.push(row);
      }
    }
    result.unknown = [...unknown.values()];
    if (growing.length === 0) return result;

    const keys = [target.connector, target.tool, growing.map((r) => r.vendorUser), growing.map((r) => r.day), growing.map((r) => r.kind)];
    await tx.query(
      `insert into vendor_totals (connector, tool_key, vendor_user, day, kind, updated_at)
       select $1, $2, r.u, r.d::date, r.k, $6 from unnest($3::text[], $4::text[], $5::text[]) with ordinality as r(u, d, k, o)
       order by r.o
       on conflict do nothing`,
      [...keys, now],
    );
    const locked = await tx.query<{ vendorUser: string; day: string; kind: string; total: string; recorded: number }>(
      `select vendor_user as "vendorUser", day::text as day, kind, total::text as total, recorded from vendor_totals
       where connector = $1 and tool_key = $2
         and (vendor_user, day, kind) in (select r.u, r.d::date, r.k from unnest($3::text[], $4::text[], $5::text[]) as r(u, d, k))
       order by vendor_user collate "C", day, kind collate "C"
       for update`,
      keys,
    );
    const stored = new Map<string, Stored>(locked.map((s) => [keyOf(s), { total: Number(s.total), recorded: s.recorded }]));

    const events: (UsageEvent & { row: VendorRow; units: number })[] = [];
    const moved: { row: VendorRow; recorded: number }[] = [];
    for (const row of growing) {
      const before = stored.get(keyOf(row))!;
      const units = wholeUnits(row.total);
      if (units > before.recorded) {
        events.push({
          id: vendorEventId(target, row, units), user: people.get(row.vendorUser)!, tool: target.tool, credits: units - before.recorded,
          at: chargeInstant(row.day, now), feature: row.feature, source: target.source, draw: row.draw ?? null, row, units,
        });
      } else {
        result.unchanged++;
        // A fractional total that grew within its unit is kept, so the next read rounds the whole of it.
        if (row.total > before.total) moved.push({ row, recorded: before.recorded });
      }
    }
    const placeholders: VendorRow[] = [];
    const joined = createLedger(inTransaction(ledger.ctx, tx));
    for (let from = 0; from < events.length; from += batch_events_max) {
      const chunk = events.slice(from, from + batch_events_max);
      const outcomes = await joined.recordUsageBatch(chunk.map(({ row: _row, units: _units, ...event }) => event));
      outcomes.forEach((outcome, i) => {
        const { row, units, credits } = chunk[i]!;
        if (outcome.status === 'rejected') {
          result.refused.push({ vendorUser: row.vendorUser, day: row.day, kind: row.kind, reason: outcome.reason, lines: row.lines });
          if (stored.get(keyOf(row))!.recorded === 0) placeholders.push(row);
          return;
        }
        // A duplicate was recorded before under this very id: the total catches up with it.
        if (outcome.status === 'applied') {
          result.applied++;
          result.units += credits;
        } else {
          result.unchanged++;
        }
        moved.push({ row, recorded: units });
      });
    }
    if (moved.length > 0) {
      await tx.query(
        `update vendor_totals v set total = r.t::numeric, recorded = r.rec, updated_at = $3
         from unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::int8[]) as r(u, d, k, t, rec)
         where v.connector = $1 and v.tool_key = $2 and v.vendor_user = r.u and v.day = r.d::date and v.kind = r.k`,
        [
          target.connector, target.tool, now, moved.map((m) => m.row.vendorUser), moved.map((m) => m.row.day), moved.map((m) => m.row.kind),
          moved.map((m) => String(m.row.total)), moved.map((m) => m.recorded),
        ],
      );
    }
    if (placeholders.length > 0) {
      // A refused row leaves no trace: the key's row was only made to be locked.
      await tx.query(
        `delete from vendor_totals v using unnest($3::text[], $4::text[], $5::text[]) as r(u, d, k)
         where v.connector = $1 and v.tool_key = $2 and v.vendor_user = r.u and v.day = r.d::date and v.kind = r.k and v.recorded = 0`,
        [target.connector, target.tool, placeholders.map((r) => r.vendorUser), placeholders.map((r) => r.day), placeholders.map((r) => r.kind)],
      );
    }
    return result;
  });
}
