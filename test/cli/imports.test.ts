// Imports from files admins really have: the vendor console's user export and usage CSVs.
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { readCsv } from '../../src/cli/csv.ts';
import { importSeats, mapping_schema, seatImportSummary, slackLookup, type SeatMapping } from '../../src/cli/import-seats.ts';
import { importUsage } from '../../src/cli/import-usage.ts';
import { emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

const vendor_export =
  '\uFEFFIdentity Type,Username,Domain,Email,First Name,Last Name,Country Code,ID,Product Configurations,Admin Roles,User Groups\r\n' +
  'Federated ID,jacob@example.com,example.com,jacob@example.com,Jacob,Moss,US,,"Creative Cloud Pro, AI Add-on",,Design\r\n' +
  'Federated ID,lena@example.com,example.com,Lena@Example.com,Lena,"Ortiz, Jr.",DE,,CREATIVE CLOUD PRO,,Marketing\r\n' +
  'Federated ID,guest@example.com,example.com,guest@example.com,Guest,User,FR,,Acrobat Standard,,\r\n' +
  'Federated ID,,example.com,not-an-email,Broken,Row,US,,Creative Cloud Pro,,\r\n' +
  '\r\n';

const mapping: SeatMapping = { plans: { 'Creative Cloud Pro': 'pro' }, profiles: { Design: 'design' } };

/** Slack's Web API as import-seats meets it: users.lookupByEmail knows Jacob and nobody else. */
const slack_api = 'http://slack.test/api/';
const lookups: string[] = [];
const slack = setupServer(
  http.post(`${slack_api}users.lookupByEmail`, async ({ request }) => {
    const email = new URLSearchParams(await request.text()).get('email')!;
    lookups.push(email);
    return HttpResponse.json(email === 'jacob@example.com' ? { ok: true, user: { id: 'U0JACOB01' } } : { ok: false, error: 'users_not_found' });
  }),
);

describe('CSV files', () => {
  it('reads a BOM, quoted fields with commas, extra columns and blank lines, keeping line numbers', () => {
    const rows = readCsv(vendor_export);
    expect(rows).toHaveLength(4);
    expect(rows[0]!.values['email']).toBe('jacob@example.com');
    expect(rows[0]!.values['product configurations']).toBe('Creative Cloud Pro, AI Add-on');
    expect(rows[1]!.values['last name']).toBe('Ortiz, Jr.');
    expect(rows.map((r) => r.line)).toEqual([2, 3, 4, 5]);
  });

  it('reads a stray quote inside an unquoted field as part of it', () => {
    const rows = readCsv('Email,First Name\nrock@example.com,Dwayne "The Rock"\nlena@example.com,Lena\n');
    expect(rows.map((r) => r.values['first name'])).toEqual(['Dwayne "The Rock"', 'Lena']);
  });

  it('refuses a file whose quote never closes, naming the line, rather than losing the rows after it', () => {
    expect(() => readCsv('email,credits,date\nmaya@example.com,"10,2026-05-19\nlena@example.com,5,2026-05-19\n')).toThrow(
      /^the CSV file cannot be read: Quote Not Closed: .* at line 3; check the quoting up to that line and import the file again \(nothing was imported\)$/,
    );
  });
});

describe('imports', () => {
  let db: Database;
  let ledger: Ledger;
  const clock = new TestClock(new Date('2026-05-20T12:00:00Z'));
  beforeAll(async () => {
    slack.listen({ onUnhandledRequest: 'error' });
    db = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    slack.close();
    await db.close();
  });
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
    expect(result.notInSlack).toEqual([{ line: 3, email: 'lena@example.com' }]);
    expect(await db.query('select 1 from seats')).toHaveLength(0);
    expect(seatImportSummary(result)).toBe(
      [
        'import-seats (dry run, nothing written): would create 2, restore 0, update 0; 0 unchanged',
        '  line 2: create jacob@example.com (U0JACOB01): plan pro, profile design',
        '  line 3: create lena@example.com: plan pro',
        '2 row(s) not imported:',
        '  line 4: guest@example.com: no plan maps from "Acrobat Standard"',
        '  line 5: not-an-email: no valid email address',
        '1 member(s) not found in Slack, kept by email:',
        '  line 3: lena@example.com',
      ].join('\n'),
    );
  });

  it('matches members to Slack by email through users.lookupByEmail', async () => {
    lookups.length = 0;
    const result = await importSeats(ledger, vendor_export, { mapping, lookup: slackLookup('xoxb-test', slack_api), dryRun: false });
    expect(lookups).toEqual(['jacob@example.com', 'lena@example.com']);
    expect(result.seats.map((s) => [s.email, s.slackId])).toEqual([['jacob@example.com', 'U0JACOB01'], ['lena@example.com', null]]);
    expect(await ledger.balance('U0JACOB01')).toMatchObject({ email: 'jacob@example.com', quota: 4000 });
    expect(result.notInSlack).toEqual([{ line: 3, email: 'lena@example.com' }]);
  });

  it('lists a row whose mapped plan or profile creditdesk does not have, even in a dry run', async () => {
    const typo: SeatMapping = { plans: { 'Creative Cloud Pro': 'pro', 'Acrobat Standard': 'acrobat' }, profiles: { Design: 'desgin' } };
    const result = await importSeats(ledger, vendor_export, { mapping: typo, dryRun: true });
    expect(result.seats.map((s) => s.line)).toEqual([3]);
    expect(result.unmatched.slice(0, 2)).toEqual([
      { line: 2, email: 'jacob@example.com', reason: 'profile "desgin" is not in creditdesk: add it with PUT /api/v1/profiles/desgin' },
      { line: 4, email: 'guest@example.com', reason: 'plan "acrobat" is not in creditdesk: add it with PUT /api/v1/plans/acrobat' },
    ]);
  });

  it('refuses a mapping file with a misspelt or wrongly typed field', () => {
    expect(mapping_schema.safeParse({ plan: { 'Creative Cloud Pro': 'pro' } }).success).toBe(false);
    expect(mapping_schema.safeParse({ plans: { 'Creative Cloud Pro': 4000 } }).success).toBe(false);
    expect(mapping_schema.parse({ default_plan: 'pro' })).toEqual({ plans: {}, profiles: {}, default_plan: 'pro' });
  });

  it('imports seats once: running the same file again changes nothing', async () => {
    const lookup = async (email: string) => (email === 'jacob@example.com' ? 'U0JACOB01' : null);
    const first = await importSeats(ledger, vendor_export, { mapping, lookup, dryRun: false });
    expect(seatImportSummary(first).split('\n')[0]).toBe('import-seats: created 2, restored 0, updated 0; 0 unchanged');
    expect(await ledger.balance('U0JACOB01')).toMatchObject({ email: 'jacob@example.com', profile: 'design', quota: 4000 });
    expect((await ledger.balance('lena@example.com')).quota).toBe(4000);
    const [jacob] = await db.query<{ name: string; attributes: Record<string, string> }>(`select name, attributes from members where slack_id = 'U0JACOB01'`);
    expect(jacob).toEqual({ name: 'Jacob Moss', attributes: { department: 'Design' } });
    const journal = (await db.query('select 1 from journal')).length;
    const tasks = (await ledger.openVendorTasks()).length;

    const again = await importSeats(ledger, vendor_export, { mapping, lookup, dryRun: false });
    expect(again.seats.map((s) => s.change)).toEqual(['unchanged', 'unchanged']);
    expect(seatImportSummary(again).split('\n')[0]).toBe('import-seats: no changes, 2 seat(s) already as the export says');
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

  it('counts two identical rows without event ids as two uses, and still only once on a re-import', async () => {
    await ledger.putSeat('U0MAYA001', { plan: 'pro', email: 'maya@example.com' });
    const csv = 'email,credits,date,feature\nmaya@example.com,10,2026-05-19,generative fill\nmaya@example.com,10,2026-05-19,generative fill\n';
    expect(await importUsage(ledger, csv)).toMatchObject({ applied: 2, duplicate: 0 });
    expect(await importUsage(ledger, csv)).toMatchObject({ applied: 0, duplicate: 2 });
    expect((await ledger.balance('U0MAYA001')).used).toBe(20);
  });
});
