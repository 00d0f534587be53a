// Imports from files admins really have: the vendor console's user export and usage CSVs.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { readCsv } from '../../src/cli/csv.ts';
import { importSeats, type SeatMapping } from '../../src/cli/import-seats.ts';
import { importUsage } from '../../src/cli/import-usage.ts';
import { emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

const vendor_export =
  '\uFEFFIdentity Type,Username,Domain,Email,First Name,Last Name,Country Code,ID,Product Configurations,Admin Roles,User Groups\r\n' +
  'Federated ID,jacob@example.com,example.com,jacob@example.com,Jacob,Moss,US,,"Creative Cloud Pro, AI Add-on",,Design\r\n' +
  'Federated ID,lena@example.com,example.com,Lena@Example.com,Lena,"Ortiz, Jr.",DE,,Creative Cloud Pro,,Marketing\r\n' +
  'Federated ID,guest@example.com,example.com,guest@example.com,Guest,User,FR,,Acrobat Standard,,\r\n' +
  'Federated ID,,example.com,not-an-email,Broken,Row,US,,Creative Cloud Pro,,\r\n' +
  '\r\n';

const mapping: SeatMapping = { plans: { 'Creative Cloud Pro': 'pro' }, profiles: { Design: 'design' } };

describe('CSV files', () => {
  it('reads a BOM, quoted fields with commas, extra columns and blank lines, keeping line numbers', () => {
    const rows = readCsv(vendor_export);
    expect(rows).toHaveLength(4);
    expect(rows[0]!.values['email']).toBe('jacob@example.com');
    expect(rows[0]!.values['product configurations']).toBe('Creative Cloud Pro, AI Add-on');
    expect(rows[1]!.values['last name']).toBe('Ortiz, Jr.');
    expect(rows.map((r) => r.line)).toEqual([2, 3, 4, 5]);
  });
});

describe('imports', () => {
  let db: Database;
  let ledger: Ledger;
  const clock = new TestClock(new Date('2026-05-20T12:00:00Z'));
  beforeAll(async () => {
    db = await openTestDatabase('pglite');
  });
  afterAll(async () => db.close());
  beforeEach(async () => {
    await emptyDatabase(db);
    ledger = testLedger(db, clock);
    await ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await ledger.putProfile('design', { name: 'Design' });
  });

  it('shows in a dry run what the vendor export would change, and writes nothing', async () => {
    const lookup = async (email: string) => (email === 'jacob@example.com' ? 'U0JACOB01' : null);
    const result = await importSeats(ledger, vendor_export, { mapping, lookup, dryRun: true });
    expect(result.seats.map((s) => [s.line, s.email, s.slackId, s.plan, s.profile, s.change])).toEqual([
      [2, 'jacob@example.com', 'U0JACOB01', 'pro', 'design', 'create'],
      [3, 'lena@example.com', null, 'pro', null, 'create'],
    ]);
    expect(result.unmatched).toEqual([
      { line: 4, email: 'guest@example.com', reason: 'no plan maps from "Acrobat Standard"' },
      { line: 5, email: 'not-an-email', reason: 'no valid email address' },
    ]);
    expect(result.notInSlack).toEqual(['lena@example.com']);
    expect(await db.query('select 1 from seats')).toHaveLength(0);
  });

  it('imports seats once: running the same file again changes nothing', async () => {
    const lookup = async (email: string) => (email === 'jacob@example.com' ? 'U0JACOB01' : null);
    await importSeats(ledger, vendor_export, { mapping, lookup, dryRun: false });
    expect(await ledger.balance('U0JACOB01')).toMatchObject({ email: 'jacob@example.com', profile: 'design', quota: 4000 });
    expect((await ledger.balance('lena@example.com')).quota).toBe(4000);
    const [jacob] = await db.query<{ name: string; attributes: Record<string, string> }>(`select name, attributes from members where slack_id = 'U0JACOB01'`);
    expect(jacob).toEqual({ name: 'Jacob Moss', attributes: { department: 'Design' } });
    const journal = (await db.query('select 1 from journal')).length;
    const tasks = (await ledger.openVendorTasks()).length;

    const again = await importSeats(ledger, vendor_export, { mapping, lookup, dryRun: false });
    expect(again.seats.map((s) => s.change)).toEqual(['unchanged', 'unchanged']);
    expect((await db.query('select 1 from journal')).length).toBe(journal);
    expect((await ledger.openVendorTasks()).length).toBe(tasks);
  });

  it('imports usage rows with their own or derived ids, so a re-import is a no-op, and lists bad rows by line', async () => {
    await ledger.putSeat('U0MAYA001', { plan: 'pro', email: 'maya@example.com' });
    const csv = [
      'email,credits,date,feature,event id',
      'maya@example.com,120,2026-05-18,generative fill,',
      'U0MAYA001,80,2026-05-19T09:30:00Z,,evt-2',
      'maya@example.com,12.5,2026-05-19,,',
      'maya@example.com,10,yesterday,,',
      'nobody@example.com,10,2026-05-19,,',
    ].join('\n');
    const first = await importUsage(ledger, csv);
    expect(first).toEqual({
      rows: 5,
      applied: 2,
      duplicate: 0,
      rejected: [
        { line: 4, reason: 'credits must be a whole number' },
        { line: 5, reason: 'date "yesterday" is not a date such as 2026-05-20 or 2026-05-20T14:03:00Z' },
        { line: 6, reason: 'no seat for nobody@example.com: add one with PUT /api/v1/seats/nobody@example.com' },
      ],
    });
    expect((await importUsage(ledger, csv)).duplicate).toBe(2);
    expect((await ledger.balance('U0MAYA001')).used).toBe(200);
  });
});
