// What the admins' App Home shows of each connector: its last finished pull (when, how it ended,
// rows read, usage recorded, people creditdesk did not know) and the last error while it lasts.
import type { Queryable } from '../db/client.ts';
import type { UnknownPerson } from './apply.ts';

/** People the status names; the pull's own summary lists up to run_details_listed_max. */
export const status_people_listed_max = 10;

export interface ConnectorStatus {
  connector: string;
  tool: string | null;
  status: 'ok' | 'failed';
  /** ISO times. */
  startedAt: string;
  finishedAt: string;
  rows: number;
  applied: number;
  units: number;
  unknownCount: number;
  /** The first of them, most units first. */
  unknownPeople: UnknownPerson[];
  refusedCount: number;
  /** Units the vendor counted for the org that no known login accounts for (GitHub). */
  unattributedUnits: number;
  /** The latest failure, unless a pull has succeeded since: when it happened and what to fix. */
  lastError: { at: string; error: string } | null;
}

interface Row {
  connector: string;
  tool: string | null;
  status: 'ok' | 'failed';
  startedAt: Date;
  finishedAt: Date;
  rows: number;
  applied: number;
  units: number;
  unknownCount: number;
  refusedCount: number;
  details: { unknown?: UnknownPerson[]; unattributed?: { units: number }[] };
  error: string | null;
}

/** Each connector that has ever finished a pull, by name, with its latest finished one. */
export async function connectorStatuses(db: Queryable): Promise<ConnectorStatus[]> {
  const latest = await db.query<Row>(
    `select distinct on (connector) connector, tool_key as tool, status, started_at as "startedAt", finished_at as "finishedAt", rows, applied,
            units, unknown_count as "unknownCount", refused_count as "refusedCount", details, error
     from connector_runs where finished_at is not null order by connector, started_at desc, id desc`,
  );
  const failures = await db.query<{ connector: string; at: Date; error: string }>(
    `select distinct on (connector) connector, finished_at as at, error from connector_runs
     where status = 'failed' and error is not null order by connector, started_at desc, id desc`,
  );
  const successes = await db.query<{ connector: string; at: Date }>(
    `select connector, max(started_at) as at from connector_runs where status = 'ok' group by connector`,
  );
  return latest.map((run) => {
    const failure = failures.find((f) => f.connector === run.connector);
    const success = successes.find((s) => s.connector === run.connector);
    const current = failure && (!success || failure.at.getTime() > success.at.getTime());
    return {
      connector: run.connector, tool: run.tool, status: run.status, startedAt: run.startedAt.toISOString(), finishedAt: run.finishedAt.toISOString(),
      rows: run.rows, applied: run.applied, units: run.units, unknownCount: run.unknownCount,
      unknownPeople: (run.details.unknown ?? []).slice(0, status_people_listed_max), refusedCount: run.refusedCount,
      unattributedUnits: (run.details.unattributed ?? []).reduce((sum, u) => sum + u.units, 0),
      lastError: current ? { at: failure.at.toISOString(), error: failure.error } : null,
    };
  });
}
