// The seat import with several plans and several tools: a row's configurations stack plans of one
// tool on one seat and give each other tool its own seat; re-runs change nothing; a dry run says
// per row and tool what would change; seats of tools the mapping does not name are left alone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CsvFileError, import_exit } from '../../src/cli/csv.ts';
import {
  importSeats, mapping_schema, SeatMappingError, seatImportExitCode, seatImportSummary, type SeatMapping,
} from '../../src/cli/import-seats.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { expectVerified, journalCount, useLedger } from '../helpers/ledger-harness.ts';
import { commandDatabase } from './command.ts';

/** The Adobe Admin Console's "Export users list to CSV" header, with a column the admin added for GitHub logins. */
const console_header =
  'Identity Type,Username,Domain,Email,First Name,Last Name,Country Code,Product Configurations,Admin Roles,' +
  'Product Configurations Administered,User Groups,User Groups Administered,Products Administered,Developer Access,Auto Assigned Products,GitHub Username';
const row = (email: string, first: string, configurations: string, groups = '', github = '') =>
  `Federated ID,${email},example.com,${email},${first},Moss,US,"${configurations}",,,${groups},,,,,${github}`;
const cc_pro = 'Creative Cloud Pro - Default Configuration';
const firefly = 'Firefly Standard - Default Configuration';
const copilot = 'GitHub Copilot Business - Default Configuration';

const jacob = row('jacob@example.com', 'Jacob', `${cc_pro}, ${firefly}`, 'Design');
const lena = row('lena@example.com', 'Lena', `${cc_pro},${copilot}`, 'Design', 'lena-o');
const maya = row('maya@example.com', 'Maya', firefly);
const guest = row('guest@example.com', 'Guest', 'Acrobat Standard - Default Configuration');
const exportOf = (...rows: string[]) => `\uFEFF${console_header}\r\n${rows.join('\r\n')}\r\n`;

/** Each entry names its plan and, through it, its tool; Copilot seats take the login from the export. */
const mapping: SeatMapping = mapping_schema.parse({
  entries: [
    { match: 'Creative Cloud Pro', plan: 'cc-pro', profile: 'design' },
    { match: 'Firefly Standard', plan: 'firefly' },
    { match: 'GitHub Copilot Business', plan: 'copilot-business', profile: 'engineering' },
  ],
  vendor_user_columns: { copilot: 'GitHub Username' },
});

describeEachDatabase('import-seats with several tools on %s', (kind) => {
  const h = useLedger(kind, { start: '2026-05-20T12:00:00Z' });

  /** Adobe and Copilot beside the database's first tool, which keeps seats of its own. */
  const setupTools = async () => {
    await h.ledger.putTool('adobe', { name: 'Adobe generative credits' });
    h.clock.advance(1000);
    await h.ledger.putTool('copilot', { name: 'Copilot premium requests', unit: 'premium requests' });
    await h.ledger.putPlan('cc-pro', { name: 'Creative Cloud Pro', credits: 4000, tool: 'adobe' });
    await h.ledger.putPlan('firefly', { name: 'Firefly Standard', credits: 2000, tool: 'adobe' });
    await h.ledger.putPlan('stock', { name: 'Adobe Stock', credits: 500, tool: 'adobe' });
    await h.ledger.putPlan('copilot-business', { name: 'Copilot Business', credits: 300, tool: 'copilot' });
    await h.ledger.putPlan('figma-full', { name: 'Figma Full seat', credits: 4250, tool: 'default' });
    await h.ledger.putProfile('design', { name: 'Design', tool: 'adobe' });
    await h.ledger.putProfile('engineering', { name: 'Engineering', tool: 'copilot' });
  };

  const seatOf = async (email: string, tool: string) => {
    const [seat] = await h.db.query<{ status: string; profile: string | null; vendorUser: string | null }>(
      `select s.status, s.profile_key as profile, s.vendor_user as "vendorUser" from seats s join members m on m.id = s.member_id
       where m.email = $1 and s.tool_key = $2`,
      [email, tool],
    );
    return seat;
  };

  it('stacks two plans of one tool on one seat (4,000 + 2,000) and gives a plan of another tool its own seat', async () => {
    await setupTools();
    const result = await importSeats(h.ledger, exportOf(jacob, lena, maya, guest), { mapping, dryRun: false });
    expect(seatImportSummary(result)).toBe([
      'import-seats: created 4, restored 0, updated 0; 0 unchanged; 1 of 4 rows failed',
      '  default: not in the mapping, its seats left alone',
      '  adobe: created 3, restored 0, updated 0; 0 unchanged',
      '  copilot: created 1, restored 0, updated 0; 0 unchanged',
      '  line 2: create jacob@example.com in adobe: plans cc-pro + firefly, profile design',
      '  line 3: create lena@example.com in adobe: plan cc-pro, profile design',
      '  line 3: create lena@example.com in copilot: plan copilot-business, profile engineering, vendor login lena-o',
      '  line 4: create maya@example.com in adobe: plan firefly',
      '1 row not imported:',
      '  line 5: guest@example.com: no plan maps from "Acrobat Standard - Default Configuration": add a mapping entry for one of them',
    ].join('\n'));
    expect(seatImportExitCode(result)).toBe(import_exit.rows_failed);
    expect(result.tools).toEqual([
      { tool: 'default', mapped: false, create: 0, restore: 0, update: 0, unchanged: 0 },
      { tool: 'adobe', mapped: true, create: 3, restore: 0, update: 0, unchanged: 0 },
      { tool: 'copilot', mapped: true, create: 1, restore: 0, update: 0, unchanged: 0 },
    ]);
    expect(result.seats.map((s) => [s.line, s.tool, s.plans, s.profile, s.change, s.added, s.removed])).toEqual([
      [2, 'adobe', ['cc-pro', 'firefly'], 'design', 'create', ['cc-pro', 'firefly'], []],
      [3, 'adobe', ['cc-pro'], 'design', 'create', ['cc-pro'], []],
      [3, 'copilot', ['copilot-business'], 'engineering', 'create', ['copilot-business'], []],
      [4, 'adobe', ['firefly'], null, 'create', ['firefly'], []],
    ]);

    expect(await h.ledger.balance('jacob@example.com', 'adobe')).toMatchObject({ plans: ['cc-pro', 'firefly'], quota: 6000, profile: 'design' });
    const lenas = await h.ledger.balances('lena@example.com');
    expect(lenas.tools.map((b) => [b.tool, b.plans, b.quota, b.unit])).toEqual([
      ['adobe', ['cc-pro'], 4000, 'credits'],
      ['copilot', ['copilot-business'], 300, 'premium requests'],
    ]);
    expect(await seatOf('lena@example.com', 'copilot')).toEqual({ status: 'active', profile: 'engineering', vendorUser: 'lena-o' });
    expect(await seatOf('lena@example.com', 'adobe')).toEqual({ status: 'active', profile: 'design', vendorUser: null });
    await expectVerified(h.ledger);
  });

  it('changes nothing when the same file is imported again, and says so for every tool', async () => {
    await setupTools();
    const file = exportOf(jacob, lena, maya);
    const first = await importSeats(h.ledger, file, { mapping, dryRun: false });
    expect(seatImportExitCode(first)).toBe(import_exit.ok);
    const journal = await journalCount(h.db);
    const tasks = (await h.ledger.openVendorTasks()).length;

    const again = await importSeats(h.ledger, file, { mapping, dryRun: false });
    expect(seatImportSummary(again)).toBe([
      'import-seats: no changes, 4 seats already as the export says',
      '  default: not in the mapping, its seats left alone',
      '  adobe: created 0, restored 0, updated 0; 3 unchanged',
      '  copilot: created 0, restored 0, updated 0; 1 unchanged',
    ].join('\n'));
    expect(again.seats.map((s) => s.change)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(seatImportExitCode(again)).toBe(import_exit.ok);
    expect(await journalCount(h.db)).toBe(journal);
    expect((await h.ledger.openVendorTasks()).length).toBe(tasks);
  });

  it('lists in a dry run, per row and tool, what would be created, restored, updated with the plans added and removed, or unchanged', async () => {
    await setupTools();
    await h.ledger.putSeat('jacob@example.com', { plans: ['cc-pro', 'stock'], profile: 'design' });
    await h.ledger.putSeat('lena@example.com', { plan: 'cc-pro', profile: 'design' });
    await h.ledger.revokeSeat('lena@example.com', null, 'adobe');
    await h.ledger.putSeat('maya@example.com', { plan: 'firefly' });
    const journal = await journalCount(h.db);

    const dry = await importSeats(h.ledger, exportOf(jacob, lena, maya), { mapping, dryRun: true });
    expect(seatImportSummary(dry)).toBe([
      'import-seats (dry run, nothing written): would create 1, restore 1, update 1; 1 unchanged',
      '  default: not in the mapping, its seats left alone',
      '  adobe: would create 0, restore 1, update 1; 1 unchanged',
      '  copilot: would create 1, restore 0, update 0; 0 unchanged',
      '  line 2: update jacob@example.com in adobe: plans cc-pro + firefly, profile design (adds firefly; removes stock)',
      '  line 3: restore lena@example.com in adobe: plan cc-pro, profile design',
      '  line 3: create lena@example.com in copilot: plan copilot-business, profile engineering, vendor login lena-o',
      '  line 4: unchanged maya@example.com in adobe: plan firefly',
    ].join('\n'));
    expect(dry.seats[0]).toMatchObject({
      change: 'update', added: ['firefly'], removed: ['stock'], before: { plans: ['cc-pro', 'stock'], profile: 'design', vendorUser: null },
    });
    expect(await journalCount(h.db)).toBe(journal);
    expect(await seatOf('lena@example.com', 'copilot')).toBeUndefined();

    // The real run removes Adobe Stock, which forfeits its 500 unused credits, and grants Firefly's 2,000.
    const done = await importSeats(h.ledger, exportOf(jacob, lena, maya), { mapping, dryRun: false });
    expect(seatImportSummary(done).split('\n')[4]).toBe(
      '  line 2: update jacob@example.com in adobe: plans cc-pro + firefly, profile design (adds firefly; removes stock, forfeiting 500)',
    );
    expect(await h.ledger.balance('jacob@example.com', 'adobe')).toMatchObject({ plans: ['cc-pro', 'firefly'], remaining: 6000 });
    expect(await h.ledger.balance('lena@example.com', 'adobe')).toMatchObject({ status: 'active', plans: ['cc-pro'], remaining: 4000 });
    await expectVerified(h.ledger);
  });

  it('leaves alone the seats of tools the mapping does not name, and never revokes a seat the export no longer lists', async () => {
    await setupTools();
    await h.ledger.putSeat('jacob@example.com', { plan: 'figma-full' });
    await h.ledger.putSeat('jacob@example.com', { plan: 'copilot-business', vendorUser: 'jacobm' });
    await h.ledger.recordUsage({ id: 'figma-1', user: 'jacob@example.com', tool: 'default', credits: 250 });

    const result = await importSeats(h.ledger, exportOf(jacob), { mapping, dryRun: false });
    expect(result.seats.map((s) => [s.tool, s.change])).toEqual([['adobe', 'create']]);
    const all = await h.ledger.balances('jacob@example.com');
    expect(all.tools.map((b) => [b.tool, b.status, b.plans, b.remaining])).toEqual([
      ['default', 'active', ['figma-full'], 4000],
      ['adobe', 'active', ['cc-pro', 'firefly'], 6000],
      ['copilot', 'active', ['copilot-business'], 300],
    ]);
    expect(await seatOf('jacob@example.com', 'copilot')).toMatchObject({ vendorUser: 'jacobm' });
  });

  it('gives, in the first form of the mapping, one plan per tool: the first entry that matches, and each tool its own profiles', async () => {
    await setupTools();
    const first = mapping_schema.parse({
      plans: { 'Creative Cloud Pro': 'cc-pro', 'Firefly Standard': 'firefly', 'GitHub Copilot Business': 'copilot-business' },
      profiles: { Design: 'design' },
    });
    const result = await importSeats(h.ledger, exportOf(jacob, lena), { mapping: first, dryRun: false });
    // Jacob lists Creative Cloud Pro and Firefly: Creative Cloud Pro comes first in the mapping.
    // The user group Design names an Adobe profile: Lena's Copilot seat gets none.
    expect(result.seats.map((s) => [s.line, s.tool, s.plans, s.profile])).toEqual([
      [2, 'adobe', ['cc-pro'], 'design'],
      [3, 'adobe', ['cc-pro'], 'design'],
      [3, 'copilot', ['copilot-business'], null],
    ]);
    expect((await h.ledger.balance('jacob@example.com', 'adobe')).quota).toBe(4000);
  });

  it('imports a row whole or not at all when its mapping names a plan or profile that does not fit, so a typo never strips a plan', async () => {
    await setupTools();
    await h.ledger.putSeat('jacob@example.com', { plans: ['cc-pro', 'firefly'], profile: 'design' });
    const typo = mapping_schema.parse({
      entries: [
        { match: 'Creative Cloud Pro', plan: 'cc-pro', profile: 'design' },
        { match: 'Firefly Standard', plan: 'fierfly' },
        { match: 'GitHub Copilot Business', plan: 'copilot-business', profile: 'design' },
      ],
    });
    const result = await importSeats(h.ledger, exportOf(jacob, lena), { mapping: typo, dryRun: false });
    expect(result.unmatched).toEqual([
      { line: 2, email: 'jacob@example.com', reason: 'plan "fierfly" is not in creditdesk: add it with PUT /api/v1/plans/fierfly' },
      { line: 3, email: 'lena@example.com', reason: 'profile "design" is of the tool adobe, not copilot: fix the mapping entry "GitHub Copilot Business"' },
    ]);
    expect(result.seats).toEqual([]);
    expect((await h.ledger.balance('jacob@example.com', 'adobe')).plans).toEqual(['cc-pro', 'firefly']);
    await expect(h.ledger.balance('lena@example.com', 'adobe')).rejects.toThrow('has no seat');
  });

  it("lists a Copilot seat whose vendor login is another member's by its line and tool, dry or not, and still makes the row's Adobe seat", async () => {
    await setupTools();
    await h.ledger.putSeat('maya@example.com', { plan: 'copilot-business', vendorUser: 'Lena-O' });
    const reason = { line: 2, email: 'lena@example.com', tool: 'copilot', reason: "lena-o is already the vendor login of another member's copilot seat" };
    const dry = await importSeats(h.ledger, exportOf(lena), { mapping, dryRun: true });
    expect(dry.unmatched).toEqual([reason]);
    const result = await importSeats(h.ledger, exportOf(lena), { mapping, dryRun: false });
    expect(result.unmatched).toEqual([reason]);
    expect(result.seats.map((s) => [s.tool, s.change])).toEqual([['adobe', 'create']]);
    expect(seatImportSummary(result).split('\n').slice(-2)).toEqual([
      '1 row not imported (or not in every tool):',
      "  line 2: lena@example.com in copilot: lena-o is already the vendor login of another member's copilot seat",
    ]);
    expect(seatImportExitCode(result)).toBe(import_exit.rows_failed);
  });

  it('updates a vendor login the export changes, and keeps one the export leaves empty', async () => {
    await setupTools();
    await h.ledger.putSeat('lena@example.com', { plan: 'copilot-business', profile: 'engineering', vendorUser: 'lena-old' });
    const renamed = await importSeats(h.ledger, exportOf(row('lena@example.com', 'Lena', copilot, '', 'lena-o')), { mapping, dryRun: false });
    expect(renamed.seats.map((s) => [s.change, s.vendorUser])).toEqual([['update', 'lena-o']]);
    expect(await seatOf('lena@example.com', 'copilot')).toMatchObject({ vendorUser: 'lena-o' });
    const blank = await importSeats(h.ledger, exportOf(row('lena@example.com', 'Lena', copilot)), { mapping, dryRun: false });
    expect(blank.seats.map((s) => s.change)).toEqual(['unchanged']);
    expect(await seatOf('lena@example.com', 'copilot')).toMatchObject({ vendorUser: 'lena-o' });
  });

  it('gives the default plan, with entries too, only to a row that lists no product configuration', async () => {
    await setupTools();
    const withDefault = mapping_schema.parse({ ...mapping, default_plan: 'cc-pro' });
    const result = await importSeats(h.ledger, exportOf(row('nora@example.com', 'Nora', ''), guest), { mapping: withDefault, dryRun: false });
    expect(result.seats.map((s) => [s.email, s.tool, s.plans])).toEqual([['nora@example.com', 'adobe', ['cc-pro']]]);
    expect(result.unmatched.map((u) => u.email)).toEqual(['guest@example.com']);
  });

  it('keeps the first form of the mapping working as before in an org of one tool', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putProfile('design', { name: 'Design' });
    const single = mapping_schema.parse({ plans: { 'Creative Cloud Pro': 'pro' }, profiles: { Design: 'design' } });
    const first = await importSeats(h.ledger, exportOf(jacob, maya), { mapping: single, dryRun: false });
    expect(seatImportSummary(first)).toBe([
      'import-seats: created 1, restored 0, updated 0; 0 unchanged; 1 of 2 rows failed',
      '  line 2: create jacob@example.com: plan pro, profile design',
      '1 row not imported:',
      '  line 3: maya@example.com: no plan maps from "Firefly Standard - Default Configuration": add a mapping entry for one of them',
    ].join('\n'));
    expect(first.tools).toEqual([{ tool: 'default', mapped: true, create: 1, restore: 0, update: 0, unchanged: 0 }]);
    const again = await importSeats(h.ledger, exportOf(jacob), { mapping: single, dryRun: false });
    expect(seatImportSummary(again)).toBe('import-seats: no changes, 1 seat already as the export says');
  });
});

describe('the mapping file with several tools', () => {
  const h = useLedger('pglite');

  it('refuses a file that mixes both forms, or an entry without its plan, naming the field', () => {
    const both = mapping_schema.safeParse({ plans: { 'Creative Cloud Pro': 'cc-pro' }, entries: [{ match: 'Firefly Standard', plan: 'firefly' }] });
    expect(both.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['entries', 'give either "plans" (one plan per tool, the first match) or "entries" (every match), not both'],
    ]);
    const planless = mapping_schema.safeParse({ entries: [{ match: 'Firefly Standard', profile: 'design' }] });
    expect(planless.error?.issues.map((i) => i.path.join('.'))).toEqual(['entries.0.plan']);
    expect(mapping_schema.safeParse({ entries: [{ match: 'Firefly Standard', plan: 'firefly', tool: 'adobe' }] }).success).toBe(false);
  });

  it('refuses, before writing anything, a vendor login column for a tool creditdesk does not have', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    const wrong = mapping_schema.parse({ entries: [{ match: 'Creative Cloud Pro', plan: 'pro' }], vendor_user_columns: { github: 'GitHub Username' } });
    await expect(importSeats(h.ledger, exportOf(jacob), { mapping: wrong, dryRun: false })).rejects.toThrow(
      new SeatMappingError('vendor_user_columns names the tool "github", which creditdesk does not have; the tools are default'),
    );
    expect(await h.db.query('select 1 from members')).toHaveLength(0);
  });

  it('refuses an export without the vendor login column the mapping names', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    const copilotLogins = mapping_schema.parse({ entries: [{ match: 'Creative Cloud Pro', plan: 'pro' }], vendor_user_columns: { default: 'GitHub Login' } });
    await expect(importSeats(h.ledger, exportOf(jacob), { mapping: copilotLogins, dryRun: false })).rejects.toThrow(CsvFileError);
    await expect(importSeats(h.ledger, exportOf(jacob), { mapping: copilotLogins, dryRun: false })).rejects.toThrow(/^the file has no GitHub Login column;/);
  });
});

describe('creditdesk import-seats with a mapping that is not right', () => {
  /** The export and the mapping as files, and the command run on them with `env` naming the database. */
  const runImport = (mappingFile: unknown, env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'creditdesk-import-'));
    writeFileSync(join(dir, 'users.csv'), exportOf(jacob));
    writeFileSync(join(dir, 'mapping.json'), JSON.stringify(mappingFile));
    return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'import-seats', join(dir, 'users.csv'), '--map', join(dir, 'mapping.json')], {
      env: { PATH: process.env.PATH, ...env }, encoding: 'utf8',
    });
  };

  it('exits 2 on a mapping that mixes both forms, without opening the database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'creditdesk-import-'));
    // DATA_DIR names a file, not a folder: had the command opened the database, it would fail otherwise.
    writeFileSync(join(dir, 'not-a-folder'), '');
    const run = runImport({ plans: { 'Creative Cloud Pro': 'cc-pro' }, entries: [{ match: 'Firefly Standard', plan: 'firefly' }] }, { DATA_DIR: join(dir, 'not-a-folder') });
    expect(run.stderr).toBe('import-seats: the mapping file is not right: entries: give either "plans" (one plan per tool, the first match) or "entries" (every match), not both\n');
    expect(run.stdout).toBe('');
    expect(run.status).toBe(import_exit.refused);
  });

  it('exits 2 on a vendor login column for a tool creditdesk does not have', async () => {
    const { db, env, remove } = await commandDatabase();
    try {
      await db.close();
      const run = runImport({ entries: [{ match: 'Creative Cloud Pro', plan: 'pro' }], vendor_user_columns: { github: 'GitHub Username' } }, env);
      expect(run.stderr.split('\n')).toEqual([
        'import-seats: Slack is not configured; members are kept by email until they can be matched',
        'import-seats: the mapping file is not right: vendor_user_columns names the tool "github", which creditdesk does not have; the tools are default',
        '',
      ]);
      expect(run.stdout).toBe('');
      expect(run.status).toBe(import_exit.refused);
    } finally {
      await remove();
    }
  });
});
