// The database client: PGlite's data folder is locked against a second process; a transaction
// PostgreSQL aborts as a deadlock victim or for a serialization failure runs again from the start
// and commits once; one that keeps failing gives up after a bounded number of attempts.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPglite, RetryTransaction, type Database, type Queryable } from '../../src/db/client.ts';
import { describeEachDatabase, describeOnPostgres, migratedPgliteFolder, openTestDatabase, type DatabaseKind } from '../helpers/db.ts';

describe('PGlite data folder', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  // Any cluster will do; a migrated one opens in a fraction of the time a new one takes.
  const newDir = async () => {
    const dir = await migratedPgliteFolder();
    dirs.push(dir);
    return dir;
  };

  it('refuses a second opener while the first holds the folder, naming the holder', async () => {
    const dir = await newDir();
    const first = await openPglite(dir);
    // Another live process holds the lock: the parent of this test process.
    writeFileSync(join(dir, 'creditdesk.lock'), String(process.ppid));
    await expect(openPglite(dir)).rejects.toThrow(`the data folder ${dir} is in use by process ${process.ppid}`);
    await first.close();
  });

  it('takes over a lock left by a process that died', async () => {
    const dir = await newDir();
    writeFileSync(join(dir, 'creditdesk.lock'), '999999999');
    const db = await openPglite(dir);
    expect(await db.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
    await db.close();
  });
});

/** A table of two counters, so two transactions can take row locks in opposite orders. */
function useCounters(kind: DatabaseKind) {
  const h = {} as { db: Database; counters: () => Promise<{ id: number; n: number }[]> };
  beforeAll(async () => {
    h.db = await openTestDatabase(kind, { poolMax: 4 });
    await h.db.query(`create table counters (id int primary key, n int not null)`);
  });
  afterAll(async () => {
    await h.db?.query(`drop table counters`);
    await h.db?.close();
  });
  beforeEach(async () => {
    await h.db.query(`delete from counters`);
    await h.db.query(`insert into counters values (1, 0), (2, 0)`);
  });
  h.counters = () => h.db.query(`select id, n from counters order by id`);
  return h;
}

/** A promise with its resolve function, to make two transactions take turns. */
function signal() {
  let give!: () => void;
  const given = new Promise<void>((resolve) => (give = resolve));
  return { give, given };
}

const bump = (tx: Queryable, id: number) => tx.query(`update counters set n = n + 1 where id = $1`, [id]);

describeOnPostgres('transactions on postgres', () => {
  const h = useCounters('postgres');

  it('runs the deadlock victim again, and each transaction commits once', async () => {
    const held = { 1: signal(), 2: signal() };
    const committed = { 1: signal(), 2: signal() };
    const attempts = { 1: 0, 2: 0 };
    // Each locks its own row, waits until the other holds its row, then asks for the other's:
    // PostgreSQL finds the cycle (after deadlock_timeout, 1 s by default) and aborts one with 40P01.
    const crossing = (mine: 1 | 2, theirs: 1 | 2) =>
      h.db
        .transaction(async (tx) => {
          attempts[mine]++;
          // withRetries starts again at once, so the victim's retry could take its row back before
          // the winner does and deadlock a second time; waiting for the winner keeps this test exact.
          if (attempts[mine] > 1) await committed[theirs].given;
          await bump(tx, mine);
          held[mine].give();
          await held[theirs].given;
          await bump(tx, theirs);
        })
        .then(() => committed[mine].give());
    await Promise.all([crossing(1, 2), crossing(2, 1)]);
    expect(Object.values(attempts).sort()).toEqual([1, 2]);
    // Both committed once: each counter bumped by each transaction exactly once.
    expect(await h.counters()).toEqual([{ id: 1, n: 2 }, { id: 2, n: 2 }]);
  });

  it('runs a repeatable-read transaction again when a concurrent update breaks its snapshot', async () => {
    const read = signal();
    const written = signal();
    let attempts = 0;
    // Reads the counter, lets another transaction change and commit it, then writes what it read
    // plus one: under repeatable read PostgreSQL refuses that write with 40001.
    const reader = h.db.transaction(async (tx) => {
      attempts++;
      await tx.query(`set transaction isolation level repeatable read`);
      const [{ n }] = (await tx.query<{ n: number }>(`select n from counters where id = 1`)) as [{ n: number }];
      read.give();
      await written.given;
      await tx.query(`update counters set n = $1 where id = 1`, [n + 1]);
    });
    await read.given;
    await h.db.transaction((tx) => bump(tx, 1));
    written.give();
    await reader;
    expect(attempts).toBe(2);
    // The second attempt read the committed 1, so neither update is lost.
    expect(await h.counters()).toEqual([{ id: 1, n: 2 }, { id: 2, n: 0 }]);
  });
});

describeEachDatabase('transaction retries on %s', (kind) => {
  const h = useCounters(kind);

  it('gives up after 5 attempts of a transaction that keeps asking to run again, writing nothing', async () => {
    let attempts = 0;
    const doomed = h.db.transaction(async (tx) => {
      attempts++;
      await bump(tx, 1);
      throw new RetryTransaction('an event id was written concurrently');
    });
    await expect(doomed).rejects.toThrow('an event id was written concurrently');
    expect(attempts).toBe(5);
    expect(await h.counters()).toEqual([{ id: 1, n: 0 }, { id: 2, n: 0 }]);
  });

  it('does not run a transaction again after an error that is not a conflict', async () => {
    let attempts = 0;
    const failing = h.db.transaction(async (tx) => {
      attempts++;
      await bump(tx, 1);
      await tx.query(`select 1 / 0`);
    });
    await expect(failing).rejects.toThrow('division by zero');
    expect(attempts).toBe(1);
    expect(await h.counters()).toEqual([{ id: 1, n: 0 }, { id: 2, n: 0 }]);
  });
});
