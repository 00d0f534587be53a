// Every Slack surface creditdesk draws, drawn with the worst data SPEC's "At any size" names (no,
// one and 5,000 members; 50 pack products; 500-character names, reasons and features in emoji,
// CJK and Slack's control characters; 10^12 credits), held against Slack's documented limits and
// checked for member text that could ping @channel or hide a link.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { budgetThresholdMessage, digestMessage, memberThresholdMessage, poolThresholdMessage, requestOutcomeMessage } from '../../src/jobs/messages.ts';
import type { Digest, LegacyDigest } from '../../src/jobs/digest.ts';
import type { MemberThresholdAlert } from '../../src/ledger/alerts.ts';
import type { SyncCorrection } from '../../src/ledger/sync.ts';
import type { Balance, HistoryEntry } from '../../src/ledger/balance.ts';
import type { CreditRequest } from '../../src/ledger/requests.ts';
import type { ChargebackRow, PackMove, Report, ReportRow } from '../../src/ledger/report.ts';
import type { RevokePlan } from '../../src/ledger/seats.ts';
import { adminForm, adminMenu, admin_forms, noticeModal, revokePreview } from '../../src/slack/blocks/admin.ts';
import { balanceMessage, balancesMessage, historyMessage, historyModal, loadingModal, recordedTitle } from '../../src/slack/blocks/balance.ts';
import { loadingModal as loadingView, resultModal, workingModal } from '../../src/slack/blocks/progress.ts';
import { reportMessage as toolReportMessage, toolsSummaryMessage } from '../../src/slack/blocks/report.ts';
import { alreadyDecidedText, correctionMessage, correctionOutcomeText, syncFlagText } from '../../src/slack/blocks/sync.ts';
import { seatPicker, type AdminFormData } from '../../src/slack/blocks/admin.ts';
import type { ToolNames } from '../../src/slack/tools.ts';
import { helpMessage } from '../../src/slack/blocks/help.ts';
import { homeView, type OrgView } from '../../src/slack/blocks/home.ts';
import { listSection, listSections } from '../../src/slack/blocks/common.ts';
import { cappedLines, chunkLines, slackLength, truncate } from '../../src/slack/blocks/limits.ts';
import { reportMessage } from '../../src/slack/blocks/report.ts';
import { approveModal, requestChannelMessage, requestModal } from '../../src/slack/blocks/request.ts';
import { section as sectionBlock } from '../../src/slack/blocks/common.ts';
import { dateText, dateToken, escapeMrkdwn } from '../../src/slack/format.ts';
import { parseCommand, typedText } from '../../src/slack/parse/command.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { slackChars, slackLimitViolations, unescapedControls } from '../helpers/slack-limits.ts';
import { actions, blocks as blockIds, inputs, views } from '../../src/slack/ids.ts';
import { admin_channel, calls, callsTo, responses, useSlackApp } from './helpers.ts';

const trillion = 1_000_000_000_000;
const zone = 'America/Los_Angeles';

/** 500 characters of each kind of text that has broken a Slack app. */
const texts = {
  ascii: 'a'.repeat(500),
  ampersands: '&'.repeat(500),
  pings: '<!channel> approve now <https://evil.example/pay|invoice> '.repeat(9).slice(0, 500),
  emoji: '👩‍👩‍👧‍👦🇫🇷'.repeat(50),
  cjk: '生成クレジット'.repeat(72).slice(0, 500),
  short: 'x',
};
type TextKind = keyof typeof texts;

const id = (i: number) => `U${String(i).padStart(8, '0')}`;

function world(members: number, name: string) {
  const email = (i: number) => `${name.slice(0, 200)}${i}@example.com`;
  const balance: Balance = {
    user: id(1), slack_id: id(1), email: email(1), tool: 'default', tool_name: name, unit: name, status: 'active', plan: name, plans: [name], profile: name,
    daily_limit: { credits: trillion, used: trillion, remaining: 0, resets_at: '2026-05-11T00:00:00.000Z' },
    cycle: { start: '2026-05-01T00:00:00.000Z', end: '2026-06-01T00:00:00.000Z', name: '2026-05' },
    quota: trillion, used: trillion, remaining: trillion, pool_used: trillion, pool_available: trillion, overage: trillion,
    sources: [
      { kind: 'plan', name, credits: trillion, remaining: trillion, expires_at: '2026-06-01T00:00:00.000Z' },
      ...Array.from({ length: members }, (_, i) => ({ kind: 'pack' as const, name: `${name}${i}`, credits: trillion, remaining: trillion, expires_at: '2026-06-01T00:00:00.000Z', pack_id: i })),
      { kind: 'pool', name, credits: trillion, remaining: trillion, expires_at: '2026-06-01T00:00:00.000Z' },
    ],
    forecast: { status: 'runs_out', burn_per_day: trillion, runs_out_at: '2026-05-21T00:00:00.000Z', lasts_the_cycle: false },
  };
  const history: HistoryEntry[] = Array.from({ length: 50 }, (_, i) => ({
    id: i, tool: 'default', kind: i % 2 ? 'usage' : 'adjustment', at: '2026-05-10T12:00:00.000Z', credits: trillion, own: trillion, pool: 0, overage: trillion,
    feature: i % 2 ? name : null, reason: i % 2 ? null : name, actor: id(2),
  }));
  const row = (i: number): ReportRow => ({
    user: i % 2 ? id(i) : email(i), slack_id: i % 2 ? id(i) : null, email: email(i), name, plan: name, plans: [name], profile: name,
    cycle_start: '2026-05-01T00:00:00.000Z', quota: trillion, used: trillion, remaining: 0, pool_used: trillion, overage: trillion, expired: trillion, forfeited: trillion, pct_used: 100,
    over_daily_limit: trillion,
  });
  const rows = Array.from({ length: members }, (_, i) => row(i));
  const report: Report = {
    cycle: '2026-05', tool: 'default', tool_name: name, unit: name, rows,
    totals: {
      quota: trillion, used: trillion, remaining: trillion, pool_used: trillion, overage: trillion, expired: trillion, forfeited: trillion,
      over_daily_limit: trillion, overage_cost: 1e12, overage_budget: { amount: trillion, remaining: 0 },
    },
  };
  const profiles: ChargebackRow[] = Array.from({ length: members }, (_, i) => ({ group: `${name}${i}`, seats: members, quota: trillion, used: trillion, remaining: trillion, overage: trillion, packCost: 1e9 }));
  const advice: PackMove[] = Array.from({ length: members }, (_, i) => ({ product: name, credits: trillion, from: i % 2 ? id(i) : email(i), fromPctUsed: 1, to: email(i + 1), ranOutOnDay: 31 }));
  const products = Array.from({ length: 50 }, (_, i) => ({ key: `product-${String(i).padStart(56, '0')}`, name: `${name}${i}`, credits: trillion, free: 10_000 }));
  const org: OrgView = {
    reports: [report],
    packs: products.map((p, i) => ({
      product: p.key, free: 10_000, assigned: members,
      holders: Array.from({ length: Math.ceil(members / 50) }, (_, k) => ({ id: i * 1_000 + k, slackId: k % 2 ? id(k) : null, email: k % 2 ? null : email(k) })),
    })),
    pools: Array.from({ length: members }, (_, i) => ({ profile: `${name}${i}`, tool: 'default', kind: 'pool' as const, amount: trillion, remaining: trillion })),
    tasks: Array.from({ length: 50 }, (_, i) => ({ id: i, text: `Assign an add-on pack (${name}) to ${email(i)} in the vendor console <@${id(i)}>`, createdAt: new Date(0), doneAt: null, doneBy: null })),
  };
  const request = (status: CreditRequest['status']): CreditRequest => ({
    id: 1, slackId: id(1), tool: 'default', toolName: name, unit: name, credits: trillion, reason: name, status, channelId: 'C0ADMINS1', messageTs: '1.2',
    decidedBy: status === 'pending' ? null : id(2),
  });
  const revoke: RevokePlan = {
    user: id(1), tool: 'default', seatId: 1, cycle: { start: '2026-05-01T00:00:00.000Z', end: '2026-06-01T00:00:00.000Z' }, forfeited: trillion,
    packs: Array.from({ length: members }, (_, i) => ({ pack_id: i, product: `${name}${i}`, policy: (['remaining', 'full', 'next_cycle'] as const)[i % 3]!, unused: trillion, next_assignee_gets: trillion, forfeited: trillion })),
  };
  const alert = (audience: 'member' | 'channel'): MemberThresholdAlert => ({
    kind: 'member_threshold', tool: { key: 'default', name, unit: name }, audience, slackId: null, email: email(1), threshold: 100, quota: trillion, consumed: trillion, remaining: trillion,
    poolUsed: trillion, overage: trillion, cycleStart: '2026-05-01T00:00:00.000Z', resetsAt: '2026-06-01T00:00:00.000Z', runsOutAt: '2026-05-21T00:00:00.000Z',
  });
  const mentionOrEmail = (i: number) => (i % 2 ? `<@${id(i)}>` : email(i));
  const digest: LegacyDigest = {
    week: '2026-W20', usedThisWeek: trillion, usedPreviousWeek: trillion - 1,
    profiles: Array.from({ length: members }, (_, i) => ({ profile: i === 0 ? null : `${name}${i}`, quota: trillion, used: trillion })),
    topConsumers: Array.from({ length: Math.min(members, 5) }, (_, i) => ({ user: mentionOrEmail(i), quota: trillion, used: trillion })),
    over80: Array.from({ length: members }, (_, i) => ({ user: mentionOrEmail(i), quota: trillion, used: trillion })),
    overage: trillion,
    freePacks: Array.from({ length: members }, (_, i) => ({ product: `${name}${i}`, count: trillion })),
  };
  const typed = (command: string) => parseCommand(command.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  const asRequest = typed(`request 1,000,000,000,000 ${name}`);
  const unknown = typed(name.replace(/\s/g, '_'));
  const surfaces = (): [string, unknown][] => [
    ['balance', balanceMessage(balance, zone)],
    ['balance after /credits log', balanceMessage(balance, zone, recordedTitle(trillion, name))],
    ['balance of another member', balanceMessage(balance, zone, `<@${id(2)}>'s AI credits`, false)],
    ['history', historyMessage(history.slice(0, Math.min(members, 50)), zone)],
    ['history modal', historyModal(history.slice(0, Math.min(members, 50)), zone)],
    ['loading modal', loadingModal('Your ledger')],
    ['help', helpMessage({ isAdmin: true, selfReporting: true })],
    ['help with an error', helpMessage({ isAdmin: true, selfReporting: true, error: unknown.kind === 'invalid' ? unknown.error : 'none' })],
    ['report', reportMessage(report, { breakage: { cycle: '2026-04', expired: trillion, packCredits: trillion, packCost: 1e12 }, advice, profiles })],
    ['revoke preview', revokePreview(revoke, id(1))],
    ['approve modal', approveModal(request('pending'), products)],
    ['approve modal with more products than a menu holds', approveModal(request('pending'), Array.from({ length: 150 }, (_, i) => ({ ...products[0]!, key: `p${i}` })))],
    ['request modal', requestModal(asRequest.kind === 'request' ? asRequest : { amount: trillion, reason: name })],
    ['request in the admin channel', requestChannelMessage(request('pending'))],
    ['decided request in the admin channel', requestChannelMessage(request('approved'))],
    ['admin menu', adminMenu()],
    ...admin_forms.map((form): [string, unknown] => [`admin form ${form}`, adminForm(form)]),
    ['notice', noticeModal(name, name)],
    ['member alert', memberThresholdMessage(alert('member'), zone)],
    ['member alert in the channel', memberThresholdMessage(alert('channel'), zone)],
    ['pool alert', poolThresholdMessage({ kind: 'pool_threshold', tool: { key: 'default', name, unit: name }, profileKey: name, threshold: 100, amount: trillion, remaining: trillion, resetsAt: '2026-06-01T00:00:00.000Z' }, zone)],
    ['request outcome with a pack', requestOutcomeMessage({ kind: 'request_outcome', requestId: 1, slackId: id(1), credits: trillion, status: 'approved', decidedBy: id(2), granted: { pack: name, credits: trillion } })],
    ['request declined', requestOutcomeMessage({ kind: 'request_outcome', requestId: 1, slackId: id(1), credits: trillion, status: 'denied', decidedBy: id(2), granted: null })],
    ['weekly digest', digestMessage(digest)],
    ['App Home of a member', homeView({ balances: [balance], history, zone, org: null })],
    ['App Home of an admin', homeView({ balances: [balance], history, zone, org })],
    ['App Home of an admin without a seat', homeView({ balances: [], history: [], zone, org })],
  ];
  return { surfaces, since: () => surfacesSince(members, name, { balance, history, report, org, request, revoke, products, digest, advice, profiles }) };
}

/** A text a listener sends as a message of one section (a DM, a reply to a click). */
const asMessage = (text: string) => ({ text, blocks: [sectionBlock(text)] });

/**
 * The surfaces added after the check was first written: the sync correction and what follows it,
 * the progress views, the budget alert; and every surface of an org with several tools, at its
 * worst: a member with seats in 20 tools, 50 tools in the org, tool names and units of 500 characters.
 */
function surfacesSince(
  members: number,
  name: string,
  w: {
    balance: Balance; history: HistoryEntry[]; report: Report; org: OrgView; request: (s: CreditRequest['status']) => CreditRequest; revoke: RevokePlan;
    products: { key: string; name: string; credits: number; free: number }[]; digest: LegacyDigest; advice: PackMove[]; profiles: ChargebackRow[];
  },
): [string, unknown][] {
  const toolKey = (i: number) => `tool-${String(i).padStart(59, '0')}`;
  const tools = Array.from({ length: 50 }, (_, i) => ({ key: toolKey(i), name: `${name}${i}` }));
  const names: ToolNames = { several: true, name: (key) => `${name}${key}` };
  const balances = Array.from({ length: 20 }, (_, i): Balance => ({ ...w.balance, tool: toolKey(i), tool_name: `${name}${i}`, unit: name, plans: [name, `${name}2`] }));
  const reports = tools.map((t): Report => ({ ...w.report, tool: t.key, tool_name: t.name, unit: name }));
  const seven = Array.from({ length: 100 }, (_, i) => ({ key: `plan-${String(i).padStart(59, '0')}`, name: `${name}${i}`, toolKey: toolKey(i % 50) }));
  const formData: AdminFormData = { tools, plans: seven };
  const moreThanAMenu: AdminFormData = { tools: [...tools, ...tools, ...tools].map((t, i) => ({ ...t, key: `${t.key.slice(0, 60)}${i}` })), plans: [...seven, ...seven] };
  const correction = (status: SyncCorrection['status']): SyncCorrection => ({
    id: 1, slackId: members % 2 ? null : id(1), email: `${name.slice(0, 200)}@example.com`, tool: toolKey(1), cycleStart: '2026-05-01T00:00:00.000Z',
    expected: trillion, reported: trillion, credits: trillion, status, channelId: 'C0ADMINS1', messageTs: '1.2', decidedBy: status === 'pending' ? null : id(2),
  });
  const syncTool = { name, unit: name };
  const { week: _week, ...figures } = w.digest;
  const toolDigest = (i: number) => ({ ...figures, tool: { key: toolKey(i), name: `${name}${i}`, unit: name } });
  const digest: Digest = { week: '2026-W20', tools: Array.from({ length: 50 }, (_, i) => toolDigest(i)) };
  const extraSection = Array.from({ length: 32 }, (_, i) => sectionBlock(`${escapeMrkdwn(name)}${i}`));
  const homeInput = { balances, history: w.history, zone, names, planNames: new Map([[name, name]]) };
  return [
    ['sync correction pending', correctionMessage(correction('pending'))],
    ...(['confirmed', 'dismissed', 'superseded', 'lapsed'] as const).map((status): [string, unknown] => [`sync correction ${status}`, correctionMessage(correction(status), syncTool)]),
    ['sync correction of a tool', correctionMessage(correction('pending'), syncTool)],
    ['sync flag', asMessage(syncFlagText(id(1), trillion, 0, syncTool))],
    ['sync correction already decided', asMessage(alreadyDecidedText(correction('confirmed')))],
    ['sync outcome confirmed', asMessage(correctionOutcomeText(correction('confirmed'), syncTool)!)],
    ['sync outcome dismissed', asMessage(correctionOutcomeText(correction('dismissed'), syncTool)!)],
    ['loading view', loadingView(name)],
    ['working view', workingModal(name)],
    ['late result', resultModal(name, `Adjusted <@${id(1)}> by +${trillion} ${name}: ${name}. `.repeat(10))],
    ['budget alert', budgetThresholdMessage({ kind: 'budget_threshold', tool: { key: toolKey(1), name, unit: name }, threshold: 100, amount: trillion, remaining: 0, resetsAt: '2026-06-01T00:00:00.000Z' }, zone)],
    ['pool alert naming its tool', poolThresholdMessage({ kind: 'pool_threshold', tool: { key: toolKey(1), name, unit: name }, profileKey: name, threshold: 100, amount: trillion, remaining: trillion, resetsAt: '2026-06-01T00:00:00.000Z' }, zone, true)],
    ['member alert in a tool', memberThresholdMessage({ kind: 'member_threshold', tool: { key: toolKey(1), name, unit: name }, audience: 'member', slackId: id(1), email: null, threshold: 100, quota: trillion, consumed: trillion, remaining: 0, poolUsed: trillion, overage: trillion, cycleStart: '2026-05-01T00:00:00.000Z', resetsAt: '2026-06-01T00:00:00.000Z', runsOutAt: null }, zone)],
    ['balance in 20 tools', balancesMessage(balances, zone, { names, planNames: new Map([[name, name]]) })],
    ['balance in one of several tools', balancesMessage(balances.slice(0, 1), zone, { names, title: recordedTitle(trillion, name, name) })],
    ["a member's balance in 20 tools", balancesMessage(balances, zone, { names, title: `<@${id(2)}>'s credits`, buttons: false })],
    ['history naming 50 tools', historyMessage(w.history.map((e, i) => ({ ...e, tool: toolKey(i) })), zone, names)],
    ['history modal naming 50 tools', historyModal(w.history.map((e, i) => ({ ...e, tool: toolKey(i) })), zone, names)],
    ['help with 50 tools', helpMessage({ isAdmin: true, selfReporting: true, tools, error: name })],
    ['report of one of 50 tools', toolReportMessage(reports[0]!, { breakage: { cycle: '2026-04', expired: trillion, packCredits: trillion, packCost: 1e12 }, advice: w.advice, profiles: w.profiles }, true)],
    ['report summary of 50 tools', toolsSummaryMessage(reports, '2026-05')],
    ['request modal asking among 50 tools', requestModal({ amount: trillion, reason: name }, { choose: tools })],
    ['request modal naming its tool', requestModal({ amount: trillion, reason: name }, { tool: tools[0]! })],
    ['request of a tool in the admin channel', requestChannelMessage(w.request('pending'), true)],
    ['decided request of a tool', requestChannelMessage(w.request('denied'), true)],
    ['approve modal of a tool', approveModal(w.request('pending'), w.products, true)],
    ['approve modal of a tool without free packs', approveModal(w.request('pending'), [], true)],
    ['request outcome naming its tool', requestOutcomeMessage({ kind: 'request_outcome', requestId: 1, slackId: id(1), toolName: name, unit: name, credits: trillion, status: 'approved', decidedBy: id(2), granted: { pack: name, credits: trillion } }, true)],
    ['seat form with 100 plans of 50 tools', adminForm('seat', formData)],
    ['seat form with more plans than a menu holds', adminForm('seat', moreThanAMenu)],
    ['catalog form with 50 tools', adminForm('catalog', formData)],
    ['catalog form with more tools than a menu holds', adminForm('catalog', moreThanAMenu)],
    ['revoke: which seat of 20', seatPicker('revoke', id(1), balances.map((b) => ({ key: b.tool, name: b.tool_name })))],
    ['adjust: which seat of 20', seatPicker('adjust', id(1), balances.map((b) => ({ key: b.tool, name: b.tool_name })), { credits: -trillion, reason: name })],
    ['revoke preview of a tool', revokePreview(w.revoke, id(1), name)],
    ['weekly digest of 50 tools', digestMessage(digest)],
    ['App Home of a member with seats in 20 tools', homeView({ ...homeInput, org: null })],
    ['App Home of an admin of 50 tools', homeView({ ...homeInput, org: { ...w.org, reports, productTools: new Map(w.products.map((p, i) => [p.key, toolKey(i)])) }, adminSections: [extraSection] })],
  ];
}

const broken = (surfaces: [string, unknown][], check: (s: unknown) => string[]) => surfaces.flatMap(([label, s]) => check(s).map((v) => `${label}: ${v}`));

/**
 * The surfaces of a world, rendered once for both checks below: rendering a world of 5,000
 * members is most of this file's time, and the renderers are pure, so the second check reads the
 * very blocks the first did.
 */
const rendered = new Map<string, [string, unknown][]>();
function surfacesOf(members: number, kind: TextKind, which: 'surfaces' | 'since'): [string, unknown][] {
  const key = `${members} ${kind} ${which}`;
  if (!rendered.has(key)) rendered.set(key, world(members, texts[kind])[which]());
  return rendered.get(key)!;
}

describe.each([0, 1, 5_000])('every Slack surface with %i members', (members) => {
  it.each(Object.keys(texts) as TextKind[])('stays inside Slack\'s limits with 500-character %s names, reasons and features', (kind) => {
    expect(broken(surfacesOf(members, kind, 'surfaces'), slackLimitViolations)).toEqual([]);
  });

  it.each(Object.keys(texts) as TextKind[])('shows %s text as text: no @channel, no disguised link', (kind) => {
    expect(broken(surfacesOf(members, kind, 'surfaces'), unescapedControls)).toEqual([]);
  });
});

describe.each([0, 1, 5_000])('every surface added since, and of 50 tools with seats in 20, with %i members', (members) => {
  it.each(Object.keys(texts) as TextKind[])('stays inside Slack\'s limits with 500-character %s tool names, units, names and reasons', (kind) => {
    expect(broken(surfacesOf(members, kind, 'since'), slackLimitViolations)).toEqual([]);
  });

  it.each(Object.keys(texts) as TextKind[])('shows %s text as text in them: no @channel, no disguised link', (kind) => {
    expect(broken(surfacesOf(members, kind, 'since'), unescapedControls)).toEqual([]);
  });
});

describe('the App Home with further admin sections', () => {
  it('keeps 32 of its 100 blocks for them however full the rest, and leaves out whole one that does not fit', () => {
    const surfaces = surfacesOf(5_000, 'emoji', 'since');
    const admin = surfaces.find(([label]) => label === 'App Home of an admin of 50 tools')![1] as { blocks: { text?: { text: string } }[] };
    expect(admin.blocks.length).toBeLessThanOrEqual(100);
    // The 32-block section made it in whole: its last block is the Home's last.
    expect(admin.blocks.at(-1)!.text!.text).toBe(`${escapeMrkdwn(texts.emoji)}31`);
    const home = homeView({
      balances: [], history: [], zone, org: { reports: [], packs: [], pools: [], tasks: [] },
      adminSections: [Array.from({ length: 5 }, () => sectionBlock('five')), Array.from({ length: 90 }, () => sectionBlock('too many'))],
    });
    const shown = home.blocks.map((b) => (b as { text?: { text: string } }).text?.text);
    expect(shown.filter((t) => t === 'five')).toHaveLength(5);
    expect(shown).not.toContain('too many');
  });
});

describe('the render check', () => {
  const message = (blocks: unknown[], text = 'fallback') => ({ text, blocks });
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

  it('names every limit a surface breaks, counting characters as Slack does', () => {
    // 3,000 emoji are 6,000 UTF-16 units but 3,000 characters to Slack: inside the limit.
    expect(slackLimitViolations(message([section('👍'.repeat(3000))]))).toEqual([]);
    expect(slackLimitViolations(message([section('a'.repeat(3001))]))).toEqual(['blocks[0].text.text: 3001 characters (Slack allows 3000)']);
    expect(slackLimitViolations(message(Array.from({ length: 51 }, () => ({ type: 'divider' }))))).toEqual(['blocks: 51 blocks (Slack allows 50)']);
    expect(slackLimitViolations({ type: 'home', blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) })).toEqual(['blocks: 101 blocks (Slack allows 100)']);
    expect(
      slackLimitViolations({
        type: 'modal', title: { type: 'plain_text', text: 'A title of twenty-five ch' }, private_metadata: 'm'.repeat(3001),
        blocks: [
          { type: 'input', label: { type: 'plain_text', text: 'Pack' }, element: { type: 'static_select', action_id: 'a', options: Array.from({ length: 101 }, (_, i) => ({ text: { type: 'plain_text', text: i ? 'o' : 'o'.repeat(76) }, value: 'v'.repeat(151) })).slice(0, 101) } },
          { type: 'input', label: { type: 'plain_text', text: 'Why' }, element: { type: 'plain_text_input', action_id: 'b', max_length: 500, initial_value: 'r'.repeat(501) } },
          { type: 'actions', elements: Array.from({ length: 26 }, () => ({ type: 'button', action_id: 'c', text: { type: 'plain_text', text: 'b'.repeat(76) }, value: 'x' })).slice(0, 26) },
          { type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) },
          { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
          { type: 'section', text: { type: 'mrkdwn', text: '' }, fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f'.repeat(2001) })).slice(0, 11) },
          { type: 'rich_text', elements: [] },
        ],
      }),
    ).toEqual(expect.arrayContaining([
      'private_metadata: 3001 characters (Slack allows 3000)',
      'title.text: 25 characters (Slack allows 24)',
      'submit: a modal with an input needs one',
      'blocks[0].element.options: 101 options (Slack allows 100)',
      'blocks[0].element.options[0].text.text: 76 characters (Slack allows 75)',
      'blocks[0].element.options[0].value: 151 characters (Slack allows 150)',
      'blocks[1].element.initial_value: 501 characters, over the max_length (Slack allows 500)',
      'blocks[2].elements: 26 elements (Slack allows 25)',
      'blocks[2].elements[0].text.text: 76 characters (Slack allows 75)',
      'blocks[3].elements: 11 elements (Slack allows 10)',
      'blocks[4].text.text: 151 characters (Slack allows 150)',
      'blocks[5].text.text: empty (Slack needs at least 1 character)',
      'blocks[5].fields: 11 fields (Slack allows 10)',
      'blocks[5].fields[0].text: 2001 characters (Slack allows 2000)',
      'blocks[6]: block type rich_text is not known to this check; teach it that block\'s limits',
    ]));
    expect(slackLimitViolations({ blocks: [section('ok')] })).toEqual(['text: a message needs a text fallback']);
  });

  it('finds member text that would ping a channel or hide a link, and lets mentions and date tokens through', () => {
    expect(unescapedControls(message([section('<@U0MAYA001> on <!date^1780272000^{date_short}|1 Jun 2026>')]))).toEqual([]);
    expect(unescapedControls(message([section('hi <!channel> see <https://evil.example|invoice>')], '<!here>'))).toEqual([
      'text: <!here>',
      'blocks[0].text: <!channel>',
      'blocks[0].text: <https://evil.example|invoice>',
    ]);
  });
});

describe('cutting text for Slack', () => {
  it('counts an emoji as one character and never cuts through one, nor through an entity or a token', () => {
    expect(slackLength('👩‍👩‍👧‍👦')).toBe(7);
    expect(slackChars('🇫🇷')).toBe(2);
    expect(truncate('ab👩‍👩‍👧‍👦cd', 8)).toBe('ab…');
    expect(truncate('R&amp;D budget', 5)).toBe('R…');
    expect(truncate('R&amp;D budget', 8)).toBe('R&amp;D…');
    expect(truncate('ping <@U0MAYA001> now', 10)).toBe('ping…');
    expect(truncate('short', 5)).toBe('short');
  });

  it('shows the first lines that fit and says how many more there are', () => {
    const lines = Array.from({ length: 5_000 }, (_, i) => `line ${i}`);
    const capped = cappedLines(lines, { maxChars: 60, more: (n) => `and ${n} more` });
    expect(capped).toBe('line 0\nline 1\nline 2\nline 3\nline 4\nline 5\nand 4994 more');
    expect(cappedLines(lines.slice(0, 2), { maxChars: 60, more: (n) => `and ${n} more` })).toBe('line 0\nline 1');
    expect(cappedLines(lines, { maxChars: 3_000, maxLines: 3, more: (n) => `and ${n} more` })).toBe('line 0\nline 1\nline 2\nand 4997 more');
    // A single line longer than the room is shortened rather than dropped.
    expect(cappedLines(['x'.repeat(100)], { maxChars: 20, more: (n) => `+${n}` })).toBe(`${'x'.repeat(19)}…`);
    const chunks = chunkLines(Array.from({ length: 10 }, () => 'y'.repeat(40)), { maxChars: 100, maxChunks: 2, more: (n) => `and ${n} more` });
    expect(chunks).toEqual([`${'y'.repeat(40)}\n${'y'.repeat(40)}`, `${'y'.repeat(40)}\n${'y'.repeat(40)}\nand 6 more`]);
  });
});

describe('lists in a section', () => {
  // Lines of every length, so some lists fill a section to its last character.
  const line = fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 400 }), fc.constantFrom('a', '&amp;', '👍', '👩‍👩‍👧‍👦', '漢', '<@U0MAYA001>')).map(([n, c]) => c.repeat(n)),
    fc.string({ unit: 'grapheme', maxLength: 200, size: 'max' }),
  );
  const more = (n: number) => `and ${n} more (the CSV has everyone)`;
  const shownCount = (text: string, total: number) => {
    const m = /and (\d+) more \(the CSV has everyone\)$/.exec(text);
    return m ? total - Number(m[1]) : total;
  };

  it('keeps a section within 3,000 characters and counts exactly the lines it leaves out', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, size: 'max' }), fc.array(line, { maxLength: 200, size: 'max' }), fc.constantFrom('\n', ', '), fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }), (head, lines, separator, maxLines) => {
        const text = (listSection(head, lines, { empty: 'none', more, separator, maxLines }).text as { text: string }).text;
        expect(slackLength(text)).toBeLessThanOrEqual(3_000);
        expect(text.startsWith(head)).toBe(true);
        const shown = shownCount(text, lines.length);
        if (shown < lines.length) expect(text.endsWith(more(lines.length - shown))).toBe(true);
        if (maxLines !== undefined) expect(shown).toBeLessThanOrEqual(maxLines);
      }),
      { numRuns: 150 },
    );
  });

  it('splits a long list into at most the sections allowed, each within 3,000 characters', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 200, size: 'max' }), fc.integer({ min: 1, max: 6 }), (lines, maxSections) => {
        const sections = listSections('*Head*\n', lines, { empty: 'none', more, maxSections }).map((b) => (b.text as { text: string }).text);
        expect(sections.length).toBeLessThanOrEqual(maxSections);
        for (const text of sections) expect(slackLength(text)).toBeLessThanOrEqual(3_000);
        // The head opens the first section; alone in it when the first line fills a section by itself.
        expect(sections[0] === '*Head*' || sections[0]!.startsWith('*Head*\n')).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('people\'s text in Slack', () => {
  it('escapes what a member typed so <!channel> cannot ping and a link cannot hide', () => {
    const request: CreditRequest = { id: 7, slackId: 'U0MAYA001', tool: 'default', toolName: 'AI credits', unit: 'credits', credits: 500, reason: '<!channel> approve now, see <https://evil.example/pay|invoice> & thanks', status: 'pending', channelId: null, messageTs: null, decidedBy: null };
    expect(requestChannelMessage(request).blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '<@U0MAYA001> asks for *500 credits*: &lt;!channel&gt; approve now, see &lt;https://evil.example/pay|invoice&gt; &amp; thanks' },
    });
    expect(escapeMrkdwn('a <b> & c')).toBe('a &lt;b&gt; &amp; c');
  });

  it('reads a slash command\'s text as the person typed it', () => {
    expect(typedText('R&amp;D &lt;!channel&gt; for <@U0LENA001|lena> in <#C0DESIGN1|design> see <https://example.com>')).toBe('R&D <!channel> for @lena in #design see https://example.com');
    expect(typedText('<!here> and <!subteam^S0TEAM001|@designers>')).toBe('@here and @designers');
    expect(parseCommand('request 500 R&amp;D offsite')).toEqual({ kind: 'request', amount: 500, reason: 'R&D offsite' });
    expect(parseCommand('log 5 R&amp;D')).toEqual({ kind: 'log', amount: 5, feature: 'R&D' });
  });
});

describe('dates in Slack', () => {
  it('goes out as a date token that each reader sees in their own zone, with the org\'s day as the fallback', () => {
    // The cycle ends at midnight UTC on 1 June: for an org in Los Angeles that is still 31 May.
    expect(dateToken('2026-06-01T00:00:00.000Z', 'UTC')).toBe('<!date^1780272000^{date_short}|1 Jun 2026>');
    expect(dateToken('2026-06-01T00:00:00.000Z', 'America/Los_Angeles')).toBe('<!date^1780272000^{date_short}|31 May 2026>');
    expect(dateText('2026-06-01T00:00:00.000Z', 'America/Los_Angeles')).toBe('31 May 2026');
  });
});

describe('amounts in /credits', () => {
  it.each([
    ['1500', 1500], ['1,500', 1500], ['12\u2009500', 12500], ['12\u202F500', 12500], ['1,000,000,000,000', trillion], ['7', 7],
  ])('reads %s as %i credits', (word, credits) => {
    expect(parseCommand(`log ${word} image fill`)).toEqual({ kind: 'log', amount: credits, feature: 'image fill' });
    expect(parseCommand(`request ${word} deck`)).toEqual({ kind: 'request', amount: credits, reason: 'deck' });
    expect(parseCommand(`sync ${word}`)).toEqual({ kind: 'sync', remaining: credits });
  });

  it.each(['1e12', '0x10', '+5', '0005', '1.5', '1,00', '1,0000', '-5', '1,000\u2009000', '1_000', '1,000,000,000,001'])('refuses %s with the reason, for log, request and sync alike', (word) => {
    for (const command of [`log ${word}`, `request ${word} deck`, `sync ${word}`]) {
      expect(parseCommand(command)).toEqual({ kind: 'invalid', error: expect.stringMatching(/^\/credits (log|request|sync)/) });
    }
  });

  it('refuses an amount past any number JavaScript holds exactly with the amount\'s own reason, not a library\'s', () => {
    expect(parseCommand('log 99999999999999999999')).toEqual({
      kind: 'invalid', error: '/credits log needs an amount: "99999999999999999999" is not one; that amount is larger than any credit grant',
    });
  });

  it('takes a request without an amount, and a balance of 0 to sync', () => {
    expect(parseCommand('request 3D renders for the pitch')).toEqual({ kind: 'request', amount: null, reason: '3D renders for the pitch' });
    expect(parseCommand('sync 0')).toEqual({ kind: 'sync', remaining: 0 });
    expect(parseCommand('log 0')).toEqual({ kind: 'invalid', error: '/credits log needs an amount: "0" is not one; the amount must be more than 0' });
  });
});

describeEachDatabase('Slack surfaces through signed requests on %s', (kind) => {
  const h = useSlackApp(kind, '2026-05-10T12:00:00Z');
  const sectionTexts = (surface: { blocks?: any[] }) => (surface.blocks ?? []).map((b) => b.text?.text ?? b.elements?.map((e: any) => e.text).join(' ') ?? '').join('\n');

  it('takes what a member typed after /credits as they typed it: R&D, not R&amp;D', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    // Slack sends the command's text with &, < and > as entities.
    await h.slack.command('U0MAYA001', 'request 500 R&amp;D offsite');
    const [open] = callsTo('views.open');
    expect(open!.view.blocks[1].element.initial_value).toBe('R&D offsite');
    await h.slack.command('U0MAYA001', 'log 5 R&amp;D &lt;!channel&gt;');
    expect((await h.ledger.history('U0MAYA001'))[0]).toMatchObject({ kind: 'usage', credits: 5, feature: 'R&D <!channel>' });
    // Shown back in mrkdwn, it is escaped again: it reads R&D <!channel> and pings nobody.
    expect(responses.at(-1)!.text).toMatch(/^Recorded 5 credits for R&amp;D &lt;!channel&gt;: /);
    expect(unescapedControls(responses.at(-1)!)).toEqual([]);
  });

  it('posts a request whose reason says <!channel> and hides a link to the admin channel as plain text', async () => {
    await h.slack.submit('U0MAYA001', views.request, {
      [blockIds.amount]: { [inputs.amount]: { value: '500' } },
      // A modal's typed values arrive as typed, unescaped.
      [blockIds.reason]: { [inputs.reason]: { value: '<!channel> approve now <https://evil.example/pay|invoice> & thanks' } },
    });
    const posted = callsTo('chat.postMessage').find((m) => m.channel === admin_channel)!;
    expect(posted.blocks[0].text.text).toBe('<@U0MAYA001> asks for *500 credits*: &lt;!channel&gt; approve now &lt;https://evil.example/pay|invoice&gt; &amp; thanks');
    expect(unescapedControls(posted)).toEqual([]);
    expect(await h.db.query(`select reason from credit_requests`)).toEqual([{ reason: '<!channel> approve now <https://evil.example/pay|invoice> & thanks' }]);
  });

  it('repeats an admin\'s typed reason in their DM as text', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.slack.submit('U0ADMIN01', views.adminAdjust, {
      [blockIds.user]: { [inputs.user]: { selected_user: 'U0MAYA001' } },
      [blockIds.amount]: { [inputs.amount]: { value: '300' } },
      [blockIds.reason]: { [inputs.reason]: { value: 'R&D <!here> offsite' } },
    });
    const [told] = callsTo('chat.postMessage');
    expect(told).toMatchObject({ channel: 'U0ADMIN01', text: 'Adjusted <@U0MAYA001> by +300 credits: R&amp;D &lt;!here&gt; offsite.' });
    expect(unescapedControls(told!)).toEqual([]);
  });

  it("shows the ledger's refusals as text: a command's placeholders do not vanish as links, and what they quote cannot ping", async () => {
    await h.ledger.putTool('figma', { name: 'Figma AI credits' });
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000, tool: 'default' });
    await h.ledger.putPlan('full', { name: 'Full seat', credits: 4250, tool: 'figma' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'full' });
    // Two seats and no tool named: the refusal shows the command's form, <tool> and all.
    await h.slack.command('U0MAYA001', 'log 5');
    expect(sectionTexts(responses.at(-1)!)).toBe(':warning: you hold seats in several tools: name one, as /credits log &lt;tool&gt; &lt;amount&gt;, with one of default, figma');
    expect(unescapedControls(responses.at(-1)!)).toEqual([]);
    // A refused event's reason quotes what the ledger holds, such as a member's email; shown as text.
    const recordUsage = h.ledger.recordUsage;
    h.ledger.recordUsage = async (event) => ({ id: event.id, status: 'rejected' as const, reason: 'the seat of r&d<!channel>@example.com was revoked' });
    try {
      await h.slack.command('U0MAYA001', 'log figma 5');
    } finally {
      h.ledger.recordUsage = recordUsage;
    }
    expect(responses.at(-1)!.text).toBe('the seat of r&amp;d&lt;!channel&gt;@example.com was revoked');
    expect(sectionTexts(responses.at(-1)!)).toBe(':warning: the seat of r&amp;d&lt;!channel&gt;@example.com was revoked');
    expect(unescapedControls(responses.at(-1)!)).toEqual([]);
  });

  it('refuses an amount that is not a plain whole number with the help and the reason, and records nothing', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 40_000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    for (const word of ['1e12', '0x10', '+5', '0005', '1.5', '1,00']) {
      await h.slack.command('U0MAYA001', `log ${word} fill`);
      expect(sectionTexts(responses.at(-1)!)).toContain(`:warning: /credits log needs an amount: "${word}" is not one; write the amount as a whole number of credits, such as 500 or 1,500`);
      expect(sectionTexts(responses.at(-1)!)).toContain('*/credits commands*');
    }
    await h.slack.command('U0MAYA001', 'request 1e3 for the deck');
    expect(sectionTexts(responses.at(-1)!)).toContain(':warning: /credits request: "1e3" is not an amount');
    await h.slack.command('U0MAYA001', 'sync 0x10');
    expect(sectionTexts(responses.at(-1)!)).toContain(":warning: /credits sync needs the remaining balance the vendor's app shows");
    expect(callsTo('views.open')).toEqual([]);
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(0);
    await h.slack.command('U0MAYA001', 'log 1,500 fill');
    await h.slack.command('U0MAYA001', 'log 12\u2009500 fill');
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(14_000);
  });

  it('opens the history in a modal for a click in the App Home, and answers a click under /credits in place', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.ledger.recordUsage({ id: 'u1', user: 'U0MAYA001', credits: 300, feature: 'generative fill' });
    expect((await h.slack.click('U0MAYA001', actions.history, '', { in: 'home' })).status).toBe(200);
    // A Home click has no response_url: the trigger_id opens a modal at once, then the history fills it.
    expect(calls.map((c) => c.method)).toEqual(['views.open', 'views.update']);
    const [open] = callsTo('views.open');
    expect(open!.trigger_id).toMatch(/^trigger-\d+$/);
    expect(open!.view.title.text).toBe('Your ledger');
    const [update] = callsTo('views.update');
    expect(update!.view_id).toBe('V0TEST');
    expect(sectionTexts(update!.view)).toBe(
      '*Your ledger this cycle*\n• <!date^1778414400^{date_short}|10 May 2026> — used 300 · generative fill\n• <!date^1778414400^{date_short}|10 May 2026> — plan granted 4,000',
    );
    expect(slackLimitViolations(update!.view)).toEqual([]);
    expect(responses).toEqual([]);

    await h.slack.click('U0MAYA001', actions.history);
    expect(responses).toEqual([expect.objectContaining({ response_type: 'ephemeral', replace_original: false, text: 'Your last 2 ledger entries this cycle' })]);
    expect(callsTo('views.open')).toHaveLength(1);
  });

  it('publishes the App Home of a member and an admin inside Slack\'s limits, with pack products named in 500 characters of markup', async () => {
    const name = (i: number) => `${'<!channel> R&D <https://evil.example|pack> 🇫🇷 '.repeat(11).slice(0, 497)}${String(i).padStart(3, '0')}`;
    await h.ledger.putPlan('pro', { name: name(999), credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro', email: 'maya&co@example.com' });
    // The pure render check above draws 50 products and 5,000 members; here a few go through the ledger and Slack.
    for (let i = 0; i < 12; i++) {
      await h.ledger.putPackProduct(`pack-${i}`, { name: name(i), credits: 1_000_000_000, kind: 'recurring' });
      await h.ledger.recordPurchase({ product: `pack-${i}`, quantity: 2 });
      if (i % 2) await h.ledger.assignPack({ product: `pack-${i}`, user: 'U0MAYA001' });
    }
    for (let i = 0; i < 8; i++) await h.ledger.recordUsage({ id: `u${i}`, user: 'U0MAYA001', credits: 1, feature: name(i) });
    await h.slack.event({ type: 'app_home_opened', user: 'U0MAYA001', tab: 'home', channel: 'D0MAYA' });
    await h.ledger.promoteAdmin('U0MAYA001');
    await h.slack.event({ type: 'app_home_opened', user: 'U0MAYA001', tab: 'home', channel: 'D0MAYA' });
    const [member, admin] = callsTo('views.publish').map((c) => c.view);
    for (const view of [member, admin]) {
      expect(slackLimitViolations(view)).toEqual([]);
      expect(unescapedControls(view)).toEqual([]);
    }
    expect(sectionTexts(admin)).toContain('*Vendor console tasks* (7 open)');
    expect(sectionTexts(member)).toContain('The newest 10 entries; *History* above shows up to 15.');
  });

  it('opens the approve modal with 50 pack products of 65-character names inside Slack\'s limits', async () => {
    for (let i = 0; i < 50; i++) {
      await h.ledger.putPackProduct(`pack-${i}`, { name: `${'Generative credits add-on for the design team, quarterly'.padEnd(62, '.')} ${String(i).padStart(2, '0')}`, credits: 2000, kind: 'recurring' });
      await h.ledger.recordPurchase({ product: `pack-${i}`, quantity: 1 });
    }
    await h.slack.submit('U0MAYA001', views.request, { [blockIds.amount]: { [inputs.amount]: { value: '500' } } });
    const posted = callsTo('chat.postMessage').find((m) => m.channel === admin_channel)!;
    await h.slack.click('U0ADMIN01', actions.approve, posted.blocks[1].elements[0].value);
    // The modal opens as a loading view at once and is filled in by views.update.
    const modal = callsTo('views.update').at(-1)!.view;
    expect(slackLimitViolations(modal)).toEqual([]);
    const options = modal.blocks[1].element.options;
    expect(options).toHaveLength(50);
    // The name gives way; the credits and the count of free packs stay whole.
    expect(options.find((o: { value: string }) => o.value === 'pack-7')).toEqual({
      text: { type: 'plain_text', text: 'Generative credits add-on for the design team, qua… (2,000 credits, 1 free)' },
      value: 'pack-7',
    });
  });
});

describe('a list cut to fit', () => {
  it('says where the rest is, on every surface of an org of 5,000 members and 50 tools', () => {
    const w = world(5_000, 'x');
    const silent: string[] = [];
    for (const [label, surface] of [...w.surfaces(), ...w.since()]) {
      // "and 12 more" with nothing after it but a noun: no command, file or place named.
      for (const cut of JSON.stringify(surface).matchAll(/and [\d,]+ more( [a-z ]+)?(?="|\\n)/g)) silent.push(`${label}: ${cut[0]}`);
    }
    expect(silent).toEqual([]);
  });
});
