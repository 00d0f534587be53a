// Imports from files admins really have: the vendor console's user export and usage CSVs, as
// spreadsheets save them (UTF-8 with or without a byte-order mark, UTF-16, `,` `;` or tab).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { CsvFileError, import_exit, readCsv } from '../../src/cli/csv.ts';
import {
  compileMapping, importSeats, mapping_schema, matchProducts, productsIn, seatImportExitCode, seatImportSummary, slackLookup, type SeatMapping,
} from '../../src/cli/import-seats.ts';
import { importUsage, usageImportExitCode, usageImportSummary } from '../../src/cli/import-usage.ts';
import { emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

/** The Adobe Admin Console's "Export users list to CSV", as it starts: UTF-8 with a byte-order mark. */
const console_header =
  'Identity Type,Username,Domain,Email,First Name,Last Name,Country Code,Product Configurations,Admin Roles,' +
  'Product Configurations Administered,User Groups,User Groups Administered,Products Administered,Developer Access,Auto Assigned Products';
const vendor_export =
  `\uFEFF${console_header}\r\n` +
  'Federated ID,jacob@example.com,example.com,jacob@example.com,Jacob,Moss,US,"Creative Cloud Pro - Default Configuration,Acrobat Pro - Default Configuration",,,Design,,,,\r\n' +
  'Federated ID,lena@example.com,example.com,Lena@Example.com,Lena,"Ortiz, Jr.",DE,CREATIVE CLOUD PRO - Default Configuration,Product Profile Admin,Creative Cloud Pro - Default Configuration,Marketing,,,,\r\n' +
  'Federated ID,guest@example.com,example.com,guest@example.com,Guest,User,FR,Acrobat Standard - Default Configuration,,,,,,,\r\n' +
  'Federated ID,,example.com,not-an-email,Broken,Row,US,Creative Cloud Pro - Default Configuration,,,,,,,\r\n' +
  'Federated ID,nora@example.com,example.com,nora@example.com,Nora,Berg,NO,,,,,,,,\r\n' +
  '\r\n';

const mapping: SeatMapping = { plans: { 'Creative Cloud Pro': 'pro' }, profiles: { Design: 'design' } };

/** Text as Excel's "Unicode Text" saves it: UTF-16 little-endian after a byte-order mark. */
const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) => Buffer.from([0xfe, 0xff, ...Buffer.from(text, 'utf16le').swap16()]);
const utf8 = (text: string) => Buffer.from(text, 'utf8');

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
    const file = readCsv(utf8(vendor_export));
    expect(file).toMatchObject({ encoding: 'utf-8', delimiter: ',' });
    expect(file.columns.slice(0, 4)).toEqual(['Identity Type', 'Username', 'Domain', 'Email']);
    expect(file.rows).toHaveLength(5);
    expect(file.rows[0]!.values['email']).toBe('jacob@example.com');
    expect(file.rows[0]!.values['product configurations']).toBe('Creative Cloud Pro - Default Configuration,Acrobat Pro - Default Configuration');
    expect(file.rows[1]!.values['last name']).toBe('Ortiz, Jr.');
    expect(file.rows.map((r) => r.line)).toEqual([2, 3, 4, 5, 6]);
  });

  it('reads a stray quote inside an unquoted field as part of it', () => {
    const rows = readCsv('Email,First Name\nrock@example.com,Dwayne "The Rock"\nlena@example.com,Lena\n').rows;
    expect(rows.map((r) => r.values['first name'])).toEqual(['Dwayne "The Rock"', 'Lena']);
  });

  it('refuses a file whose quote never closes, naming the line, rather than losing the rows after it', () => {
    expect(() => readCsv('email,credits,date\nmaya@example.com,"10,2026-05-19\nlena@example.com,5,2026-05-19\n')).toThrow(
      /^the CSV file cannot be read: Quote Not Closed: .* at line 3; check the quoting up to that line and import the file again \(nothing was imported\)$/,
    );
  });

  it('reads a semicolon-separated export, as a spreadsheet in a European locale saves it', () => {
    const file = readCsv(utf8('Email;First Name;Last Name;Product Configurations\r\njacob@example.com;Jacob;Moss;"Creative Cloud Pro - Default Configuration,Acrobat Pro - Default Configuration"\r\n'));
    expect(file.delimiter).toBe(';');
    expect(file.rows[0]!.values).toEqual({
      'email': 'jacob@example.com', 'first name': 'Jacob', 'last name': 'Moss',
      'product configurations': 'Creative Cloud Pro - Default Configuration,Acrobat Pro - Default Configuration',
    });
  });

  it('takes the delimiter from the sep= line Excel writes, counting lines from the top of the file', () => {
    const file = readCsv(utf8('sep=;\nEmail;Credits,net\nmaya@example.com;10,5\n'));
    expect(file.delimiter).toBe(';');
    expect(file.columns).toEqual(['Email', 'Credits,net']);
    expect(file.rows).toEqual([{ line: 3, values: { 'email': 'maya@example.com', 'credits,net': '10,5' } }]);
  });

  it('reads UTF-16 with tabs as Excel saves "Unicode Text", little- or big-endian, with or without a byte-order mark', () => {
    const text = 'Email\tFirst Name\tLast Name\r\nlena@example.com\tLena\tMüller\r\nsøren@example.dk\tSøren\tKierkegaard\r\n';
    for (const [bytes, encoding] of [
      [utf16le(text), 'utf-16le'],
      [utf16be(text), 'utf-16be'],
      [Buffer.from(text, 'utf16le'), 'utf-16le'],
    ] as const) {
      const file = readCsv(bytes);
      expect(file).toMatchObject({ encoding, delimiter: '\t' });
      expect(file.rows.map((r) => [r.line, r.values['email'], r.values['last name']])).toEqual([
        [2, 'lena@example.com', 'Müller'],
        [3, 'søren@example.dk', 'Kierkegaard'],
      ]);
    }
  });

  it('reads UTF-8 without a byte-order mark, and names of people as they are written', () => {
    const file = readCsv(utf8('Email,First Name\nzoe@example.com,Zoë\n'));
    expect(file.encoding).toBe('utf-8');
    expect(file.rows[0]!.values['first name']).toBe('Zoë');
  });

  it('skips the rows of bare delimiters a spreadsheet leaves where a row was emptied', () => {
    expect(readCsv(utf8('Email;Credits\n;\nmaya@example.com;10\n;;\n')).rows).toEqual([{ line: 3, values: { email: 'maya@example.com', credits: '10' } }]);
  });

  it('refuses an empty file, a binary file and a workbook, saying what the file is', () => {
    const refusal = (bytes: Uint8Array) => {
      try {
        readCsv(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(CsvFileError);
        return (error as Error).message;
      }
      throw new Error('the file was read');
    };
    expect(refusal(new Uint8Array())).toBe('the file is empty: there is nothing to import (check that the export finished and name its file)');
    expect(refusal(utf8('\r\n\r\n'))).toBe('the file is empty: there is nothing to import (check that the export finished and name its file)');
    expect(refusal(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48]))).toBe(
      'the file is not text (it holds a zero byte at byte 9): export the data as CSV and import that file',
    );
    expect(refusal(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]))).toBe(
      'the file is a zip archive such as an Excel workbook (.xlsx), not CSV: save it as "CSV UTF-8" and import that file',
    );
    // Excel's plain "CSV" on Windows: Latin-1, where ü is one byte that UTF-8 never has alone.
    expect(refusal(Buffer.from('Email,Last Name\nlena@example.com,Ortiz\nmax@example.com,Müller\n', 'latin1'))).toBe(
      'the file is not UTF-8 text (line 3 holds a byte that is not): save it from the spreadsheet as "CSV UTF-8" and import that file',
    );
  });

  it('refuses a file without a column its caller needs, naming what is missing and the columns it has', () => {
    const required = [{ label: 'Email', names: ['Email', 'Username'] }, { label: 'credits', names: ['credits'] }];
    expect(() => readCsv(utf8('Name;Credits\nMaya;10\n'), { required })).toThrow(
      new CsvFileError('the file has no Email (or Username) column; its semicolon-separated header has 2 columns "Name", "Credits": export the file with that column and import it again (nothing was imported)'),
    );
    expect(() => readCsv(utf8('Name\nMaya\n'), { required })).toThrow(
      'the file has no Email (or Username); credits columns; its comma-separated header has the one column "Name"',
    );
    expect(readCsv(utf8('USERNAME,Credits\nmaya@example.com,10\n'), { required }).rows).toHaveLength(1);
  });

  it('refuses a file with a header and no rows: there is nothing to import', () => {
    expect(() => readCsv(utf8(`${console_header}\r\n`))).toThrow(new CsvFileError('the file has a header line but no rows: there is nothing to import'));
  });
});

describe('mapping product configurations', () => {
  const plans = (entries: Record<string, string>, cell: string) => matchProducts(productsIn(cell), compileMapping(entries)).map((m) => m.value);

  it('matches a configuration by the product name before its suffix, in any case', () => {
    expect(plans({ 'Creative Cloud Pro': 'pro' }, 'Creative Cloud Pro - Default Configuration')).toEqual(['pro']);
    expect(plans({ 'creative cloud pro': 'pro' }, 'CREATIVE CLOUD PRO - Marketing')).toEqual(['pro']);
    expect(plans({ 'Creative Cloud Pro': 'pro' }, 'Creative Cloud Pro')).toEqual(['pro']);
    expect(plans({ 'Creative Cloud Pro': 'pro' }, 'Creative Cloud Pro Plus - Default Configuration')).toEqual([]);
    expect(plans({ 'Creative Cloud': 'cc' }, 'Creative Cloud Pro - Default Configuration')).toEqual([]);
  });

  it('matches a pattern whose * stands for any run of characters, over the whole name', () => {
    expect(plans({ '*Acrobat*': 'acrobat' }, 'Default Acrobat Pro DC configuration')).toEqual(['acrobat']);
    expect(plans({ 'Default All Apps plan - * configuration': 'all' }, 'Default All Apps plan - 1 TB configuration')).toEqual(['all']);
    expect(plans({ 'Acrobat*': 'acrobat' }, 'Default Acrobat Pro DC configuration')).toEqual([]);
    // Only * is special: a dot or a bracket in a name is itself.
    expect(plans({ 'Firefly (beta) v2.*': 'firefly' }, 'Firefly (beta) v2.0 - Default Configuration')).toEqual(['firefly']);
    expect(plans({ 'Firefly (beta) v2.*': 'firefly' }, 'Firefly (beta) v2x0')).toEqual([]);
  });

  it('lists every match of a cell of several configurations, in the order of the mapping', () => {
    const mapping = compileMapping({ 'Acrobat Pro': 'acrobat', 'Creative Cloud Pro': 'pro', '*': 'any' });
    expect(matchProducts(productsIn('Creative Cloud Pro - Default Configuration,Acrobat Pro - Default Configuration'), mapping)).toEqual([
      { product: 'Acrobat Pro - Default Configuration', key: 'Acrobat Pro', value: 'acrobat' },
      { product: 'Creative Cloud Pro - Default Configuration', key: 'Creative Cloud Pro', value: 'pro' },
      { product: 'Creative Cloud Pro - Default Configuration', key: '*', value: 'any' },
      { product: 'Acrobat Pro - Default Configuration', key: '*', value: 'any' },
    ]);
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
      { line: 4, email: 'guest@example.com', reason: 'no plan maps from "Acrobat Standard - Default Configuration": add a mapping entry for one of them' },
      { line: 5, email: 'not-an-email', reason: 'no valid email address' },
      { line: 6, email: 'nora@example.com', reason: 'lists no product configuration: give a default plan (--plan KEY) to import such rows' },
    ]);
    expect(result.notInSlack).toEqual([{ line: 3, email: 'lena@example.com' }]);
    expect(await db.query('select 1 from seats')).toHaveLength(0);
    expect(seatImportSummary(result)).toBe(
      [
        'import-seats (dry run, nothing written): would create 2, restore 0, update 0; 0 unchanged; 3 of 5 rows would fail',
        '  line 2: create jacob@example.com (U0JACOB01): plan pro, profile design',
        '  line 3: create lena@example.com: plan pro',
        '3 rows not imported:',
        '  line 4: guest@example.com: no plan maps from "Acrobat Standard - Default Configuration": add a mapping entry for one of them',
        '  line 5: not-an-email: no valid email address',
        '  line 6: nora@example.com: lists no product configuration: give a default plan (--plan KEY) to import such rows',
        '1 member not found in Slack, kept by email:',
        '  line 3: lena@example.com',
      ].join('\n'),
    );
    expect(seatImportExitCode(result)).toBe(import_exit.rows_failed);
  });

  it('maps the console\'s configuration names by their product, several in one cell, ignoring the ones no entry names', async () => {
    const result = await importSeats(ledger, vendor_export, { mapping, dryRun: false });
    // Jacob holds "Creative Cloud Pro - Default Configuration" and "Acrobat Pro - Default Configuration";
    // Lena administers a configuration as well, which gives her nothing.
    expect(result.seats.map((s) => [s.email, s.plan])).toEqual([['jacob@example.com', 'pro'], ['lena@example.com', 'pro']]);
    expect((await ledger.balance('jacob@example.com')).quota).toBe(4000);
  });

  it('gives the default plan only to a row that lists no product configuration, and reports one whose products map to nothing', async () => {
    const result = await importSeats(ledger, vendor_export, { mapping: { ...mapping, default_plan: 'pro' }, dryRun: false });
    expect(result.seats.map((s) => [s.line, s.email, s.plan])).toEqual([
      [2, 'jacob@example.com', 'pro'],
      [3, 'lena@example.com', 'pro'],
      [6, 'nora@example.com', 'pro'],
    ]);
    // The guest holds Acrobat Standard only: no Creative Cloud Pro seat for them.
    expect(result.unmatched.map((u) => [u.line, u.reason])).toEqual([
      [4, 'no plan maps from "Acrobat Standard - Default Configuration": add a mapping entry for one of them'],
      [5, 'no valid email address'],
    ]);
    await expect(ledger.balance('guest@example.com')).rejects.toThrow('guest@example.com has no seat');
  });

  it('takes the first mapping entry that matches, so a catch-all pattern can come last', async () => {
    await ledger.putPlan('acrobat', { name: 'Acrobat', credits: 500 });
    const ordered: SeatMapping = { plans: { 'Acrobat*': 'acrobat', 'Creative Cloud Pro': 'pro', '*': 'acrobat' }, profiles: {} };
    const result = await importSeats(ledger, vendor_export, { mapping: ordered, dryRun: true });
    expect(result.seats.map((s) => [s.email, s.plan])).toEqual([
      ['jacob@example.com', 'acrobat'],
      ['lena@example.com', 'pro'],
      ['guest@example.com', 'acrobat'],
    ]);
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

  it('imports seats once: running the same file again changes nothing and says so', async () => {
    const clean = vendor_export.split('\r\n').slice(0, 3).join('\r\n');
    const lookup = async (email: string) => (email === 'jacob@example.com' ? 'U0JACOB01' : null);
    const first = await importSeats(ledger, clean, { mapping, lookup, dryRun: false });
    expect(seatImportSummary(first).split('\n')[0]).toBe('import-seats: created 2, restored 0, updated 0; 0 unchanged');
    expect(seatImportExitCode(first)).toBe(import_exit.ok);
    expect(await ledger.balance('U0JACOB01')).toMatchObject({ email: 'jacob@example.com', profile: 'design', quota: 4000 });
    expect((await ledger.balance('lena@example.com')).quota).toBe(4000);
    const [jacob] = await db.query<{ name: string; attributes: Record<string, string> }>(`select name, attributes from members where slack_id = 'U0JACOB01'`);
    expect(jacob).toEqual({ name: 'Jacob Moss', attributes: { department: 'Design' } });
    const journal = (await db.query('select 1 from journal')).length;
    const tasks = (await ledger.openVendorTasks()).length;

    const again = await importSeats(ledger, clean, { mapping, lookup, dryRun: false });
    expect(again.seats.map((s) => s.change)).toEqual(['unchanged', 'unchanged']);
    expect(seatImportSummary(again).split('\n')[0]).toBe('import-seats: no changes, 2 seats already as the export says');
    expect(seatImportExitCode(again)).toBe(import_exit.ok);
    expect((await db.query('select 1 from journal')).length).toBe(journal);
    expect((await ledger.openVendorTasks()).length).toBe(tasks);
  });

  it('fails the run when a row failed, after applying the good rows, and never says "no changes" then', async () => {
    await importSeats(ledger, vendor_export, { mapping, dryRun: false });
    const again = await importSeats(ledger, vendor_export, { mapping, dryRun: false });
    expect(again.seats.map((s) => s.change)).toEqual(['unchanged', 'unchanged']);
    expect(seatImportSummary(again).split('\n')[0]).toBe('import-seats: created 0, restored 0, updated 0; 2 unchanged; 3 of 5 rows failed');
    expect(seatImportExitCode(again)).toBe(import_exit.rows_failed);
  });

  it('fails the run when every row failed', async () => {
    const acrobatOnly = `${console_header}\nFederated ID,guest@example.com,example.com,guest@example.com,Guest,User,FR,Acrobat Standard - Default Configuration,,,,,,,\n`;
    const result = await importSeats(ledger, utf8(acrobatOnly), { mapping, dryRun: false });
    expect(seatImportSummary(result).split('\n')[0]).toBe('import-seats: created 0, restored 0, updated 0; 0 unchanged; 1 of 1 row failed');
    expect(seatImportExitCode(result)).toBe(import_exit.rows_failed);
  });

  it('refuses an export without an Email column, or without product configurations unless a default plan is given, writing nothing', async () => {
    await expect(importSeats(ledger, utf8('First Name,Last Name,Product Configurations\nJacob,Moss,Creative Cloud Pro - Default Configuration\n'), { mapping, dryRun: false }))
      .rejects.toThrow(new CsvFileError(
        'the file has no Email (or Email Address, E-mail, Username) column; its comma-separated header has 3 columns "First Name", "Last Name", "Product Configurations": export the file with that column and import it again (nothing was imported)',
      ));
    const emailsOnly = utf8('Email\njacob@example.com\n');
    await expect(importSeats(ledger, emailsOnly, { mapping, dryRun: false })).rejects.toThrow(
      'the file has no Product Configurations (or Product Configuration, Product Profiles, Products, User Groups) column',
    );
    expect(await db.query('select 1 from members')).toHaveLength(0);
    const withDefault = await importSeats(ledger, emailsOnly, { mapping: { ...mapping, default_plan: 'pro' }, dryRun: false });
    expect(withDefault.seats.map((s) => [s.email, s.plan, s.change])).toEqual([['jacob@example.com', 'pro', 'create']]);
  });

  it('imports a semicolon-separated export saved as UTF-16', async () => {
    const text = `${console_header.replaceAll(',', ';')}\r\nFederated ID;lena@example.com;example.com;lena@example.com;Lena;Müller;DE;Creative Cloud Pro - Default Configuration;;;Design;;;;\r\n`;
    const result = await importSeats(ledger, utf16le(text), { mapping, dryRun: false });
    expect(result.seats.map((s) => [s.line, s.email, s.plan, s.profile])).toEqual([[2, 'lena@example.com', 'pro', 'design']]);
    const [lena] = await db.query<{ name: string }>(`select name from members where email = 'lena@example.com'`);
    expect(lena!.name).toBe('Lena Müller');
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
    expect(usageImportSummary(first)).toBe(
      [
        'import-usage: applied 2 usage events; 0 imported before; 3 of 5 rows failed',
        '3 rows not imported:',
        '  line 4: credits must be a whole number',
        '  line 5: date "yesterday" is not a date such as 2026-05-20 or 2026-05-20T14:03:00Z',
        '  line 6: no seat for nobody@example.com: add one with PUT /api/v1/seats/nobody@example.com',
      ].join('\n'),
    );
    expect(usageImportExitCode(first)).toBe(import_exit.rows_failed);
    const again = await importUsage(ledger, csv);
    expect(again.duplicate).toBe(2);
    expect(usageImportSummary(again).split('\n')[0]).toBe('import-usage: applied 0 usage events; 2 imported before; 3 of 5 rows failed');
    expect(usageImportExitCode(again)).toBe(import_exit.rows_failed);
    expect((await ledger.balance('U0MAYA001')).used).toBe(200);
  });

  it('counts two identical rows without event ids as two uses, and says "no changes" when the file is imported again', async () => {
    await ledger.putSeat('U0MAYA001', { plan: 'pro', email: 'maya@example.com' });
    const csv = 'email,credits,date,feature\nmaya@example.com,10,2026-05-19,generative fill\nmaya@example.com,10,2026-05-19,generative fill\n';
    const first = await importUsage(ledger, csv);
    expect(first).toMatchObject({ applied: 2, duplicate: 0 });
    expect(usageImportExitCode(first)).toBe(import_exit.ok);
    const again = await importUsage(ledger, csv);
    expect(again).toMatchObject({ applied: 0, duplicate: 2 });
    expect(usageImportSummary(again)).toBe('import-usage: no changes, all 2 rows were imported before');
    expect(usageImportExitCode(again)).toBe(import_exit.ok);
    expect((await ledger.balance('U0MAYA001')).used).toBe(20);
  });

  it('refuses a usage file without a credits or date column, writing nothing', async () => {
    await ledger.putSeat('U0MAYA001', { plan: 'pro', email: 'maya@example.com' });
    await expect(importUsage(ledger, utf8('Email;Quantity;Day\nmaya@example.com;10;2026-05-19\n'))).rejects.toThrow(
      new CsvFileError(
        'the file has no credits (or amount); date (or at, time, timestamp) columns; its semicolon-separated header has 3 columns "Email", "Quantity", "Day": export the file with that column and import it again (nothing was imported)',
      ),
    );
    expect((await ledger.balance('U0MAYA001')).used).toBe(0);
  });

  it('imports a tab-separated usage file saved as UTF-16', async () => {
    await ledger.putSeat('U0MAYA001', { plan: 'pro', email: 'maya@example.com' });
    const summary = await importUsage(ledger, utf16le('Email\tCredits\tDate\tFeature\r\nmaya@example.com\t25\t2026-05-19\tGenerative Fill\r\n'));
    expect(summary).toEqual({ rows: 1, applied: 1, duplicate: 0, rejected: [] });
    expect((await ledger.balance('U0MAYA001')).used).toBe(25);
  });
});

describe('the import commands', () => {
  it('exit 2 on a file they refuse, naming the problem, without opening the database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'creditdesk-import-'));
    const file = join(dir, 'users.csv');
    writeFileSync(file, 'First Name;Last Name;Product Configurations\r\nJacob;Moss;Creative Cloud Pro - Default Configuration\r\n');
    // DATA_DIR names a file, not a folder: had the command opened the database, it would fail otherwise.
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'import-seats', file], {
      env: { PATH: process.env.PATH, DATA_DIR: file }, encoding: 'utf8',
    });
    expect(run.stderr).toBe(
      `import-seats: ${file}: the file has no Email (or Email Address, E-mail, Username) column; its semicolon-separated header has 3 columns "First Name", "Last Name", "Product Configurations": export the file with that column and import it again (nothing was imported)\n`,
    );
    expect(run.stdout).toBe('');
    expect(run.status).toBe(import_exit.refused);
  });
});
