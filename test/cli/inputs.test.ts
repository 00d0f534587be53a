// A row of an import that creditdesk cannot store is refused by its line; the other rows go in.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { importSeats } from '../../src/cli/import-seats.ts';
import { importUsage } from '../../src/cli/import-usage.ts';
import { describeEachDatabase, emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

describeEachDatabase('imports of rows holding a NUL on %s', (kind) => {
  let db: Database;
  let ledger: Ledger;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => db?.close());
  beforeEach(async () => {
    await emptyDatabase(db);
    ledger = testLedger(db, new TestClock(new Date('2026-05-20T12:00:00Z')));
    await ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
  });

  it('refuses a usage row whose feature or event id holds a NUL by its line, and applies the others', async () => {
    await ledger.putSeat('U0MAYA001', { plan: 'pro', email: 'maya@example.com' });
    const csv = [
      'email,credits,date,feature,event id',
      'maya@example.com,120,2026-05-18,generative fill,',
      'maya@example.com,30,2026-05-18,generative\u0000fill,',
      'maya@example.com,40,2026-05-19,,evt\u00002',
      `maya@example.com,50,2026-05-19,${'x'.repeat(501)},`,
      'maya@example.com,80,2026-05-19,,evt-3',
    ].join('\n');
    expect(await importUsage(ledger, csv)).toEqual({
      rows: 5,
      applied: 2,
      duplicate: 0,
      rejected: [
        { line: 3, reason: 'feature must not contain a NUL character (U+0000): remove it' },
        { line: 4, reason: 'event_id must not contain a NUL character (U+0000): remove it' },
        { line: 5, reason: 'feature must be at most 500 characters' },
      ],
    });
    expect((await ledger.balance('U0MAYA001')).used).toBe(200);
  });

  it('refuses a seat row whose name or group holds a NUL by its line, and imports the others', async () => {
    const csv = [
      'Email,First Name,Last Name,Product Configurations,User Groups',
      'jacob@example.com,Jacob,Moss,Pro,Design',
      'lena@example.com,Le\u0000na,Ortiz,Pro,Marketing',
      'maya@example.com,Maya,Chen,Pro,Sales\u0000',
      'sam@example.com,Sam,Ng,Pro,',
    ].join('\n');
    const result = await importSeats(ledger, csv, { mapping: { plans: { pro: 'pro' }, profiles: {} }, dryRun: false });
    expect(result.seats.map((s) => [s.line, s.email, s.change])).toEqual([
      [2, 'jacob@example.com', 'create'],
      [5, 'sam@example.com', 'create'],
    ]);
    expect(result.unmatched).toEqual([
      { line: 3, email: 'lena@example.com', reason: 'column "first name" must not contain a NUL character (U+0000): remove it' },
      { line: 4, email: 'maya@example.com', reason: 'column "user groups" must not contain a NUL character (U+0000): remove it' },
    ]);
    expect(await db.query(`select email from members order by email`)).toEqual([{ email: 'jacob@example.com' }, { email: 'sam@example.com' }]);
  });
});
