// Slack for an org with several tools (SPEC "Several tools"): the org that started with Adobe (the
// database's first tool, renamed) and added Figma and GitHub Copilot. Every surface names its tool and
// counts in its unit; a command or form asks for a tool only when there is a choice.
import { beforeEach, describe, expect, it } from 'vitest';
import { Dispatcher, slackSender } from '../../src/jobs/dispatcher.ts';
import { runDigestJob } from '../../src/jobs/index.ts';
import { actions, blocks, inputs, views } from '../../src/slack/ids.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { slackLimitViolations } from '../helpers/slack-limits.ts';
import { view_ack_budget_ms } from '../../src/slack/listeners/views/in-time.ts';
import { admin_channel, callsTo, responses, slack_api, slack_retry, slowDown, useSlackApp } from './helpers.ts';

const alert_channel = 'C0ALERTS1';
/** Every text of a surface's blocks, one block a line; a context's elements joined. */
const text = (surface: { blocks?: any[] }) =>
  (surface.blocks ?? []).map((b) => b.text?.text ?? b.elements?.map((e: any) => e.text?.text ?? e.text).join(' ') ?? '').join('\n');
const sections = (surface: { blocks?: any[] }) =>
  (surface.blocks ?? []).map((b) => (b.type === 'actions' ? 'actions' : (b.text?.text ?? b.elements?.map((e: any) => e.text).join(' ') ?? b.type)));
const june_1 = '<!date^1780272000^{date_short}|1 Jun 2026>';

describeEachDatabase('Slack with several tools on %s', (kind) => {
  const h = useSlackApp(kind, '2026-05-10T12:00:00Z');
  const dispatch = () =>
    new Dispatcher({ ctx: h.ledger.ctx, sender: slackSender({ botToken: 'xoxb-test', apiUrl: slack_api }), adminChannelId: admin_channel, alertChannelId: alert_channel }).round();
  const postsTo = (channel: string) => callsTo('chat.postMessage').filter((m) => m.channel === channel);
  const dmsTo = (user: string) => postsTo(user).map((m) => m.text as string);
  const filledModal = () => callsTo('views.update').at(-1)!;
  const user = (id: string) => ({ [blocks.user]: { [inputs.user]: { selected_user: id } } });
  const field = (block: string, input: string, value: string) => ({ [block]: { [input]: { value } } });
  const pick = (block: string, input: string, value: string) => ({ [block]: { [input]: { selected_option: { value } } } });

  beforeEach(async () => {
    // The org started with one tool (the database's `default`) for Adobe, then added Figma and Copilot.
    await h.ledger.putTool('default', { name: 'Adobe generative credits', unit: 'generative credits' });
    await h.ledger.putTool('figma', { name: 'Figma AI credits', unit: 'AI credits' });
    h.clock.advance(1000);
    await h.ledger.putTool('copilot', { name: 'Copilot premium requests', unit: 'premium requests', timeZone: 'UTC', anchorDay: 1 });
    await h.ledger.putPlan('cc-pro', { name: 'Creative Cloud Pro', credits: 4000, tool: 'default' });
    await h.ledger.putPlan('firefly', { name: 'Firefly Standard', credits: 2000, tool: 'default' });
    await h.ledger.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring', tool: 'default' });
    await h.ledger.putPlan('figma-full', { name: 'Full seat', credits: 4250, tool: 'figma' });
    await h.ledger.putPlan('figma-view', { name: 'View seat', credits: 500, dailyLimit: 150, tool: 'figma' });
    await h.ledger.putPlan('copilot-business', { name: 'Copilot Business', credits: 300, tool: 'copilot' });
    await h.ledger.putPackProduct('copilot-100', { name: 'Copilot +100', credits: 100, kind: 'recurring', tool: 'copilot' });
    // Jacob: Creative Cloud Pro and a second 2,000 plan plus two 2,000 packs (10,000), a Figma Full seat, a Copilot seat.
    await h.ledger.putSeat('U0JACOB01', { plans: ['cc-pro', 'firefly'], email: 'jacob@example.com' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 3 });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await h.ledger.putSeat('U0JACOB01', { plan: 'figma-full' });
    await h.ledger.putSeat('U0JACOB01', { plan: 'copilot-business' });
    // Lena holds one seat: Figma's View seat, 500 a cycle and at most 150 a day.
    await h.ledger.putSeat('U0LENA001', { plan: 'figma-view' });
  });

  describe('/credits', () => {
    it('shows a block per tool: its name, plans, what is left in its unit by source, the reset as a date token and the forecast', async () => {
      await h.ledger.recordUsage({ id: 'j1', user: 'U0JACOB01', tool: 'default', credits: 1234 });
      await h.slack.command('U0JACOB01', '');
      const [reply] = responses;
      expect(reply!.text).toBe(
        'Your credits: Adobe generative credits 8,766 of 10,000 generative credits left; Figma AI credits 4,250 of 4,250 AI credits left; ' +
          'Copilot premium requests 300 of 300 premium requests left',
      );
      const forecast = 'Too early to forecast: too little usage this cycle so far.';
      expect(sections(reply!)).toEqual([
        '*Your credits* in 3 tools',
        '*Adobe generative credits* · Creative Cloud Pro + Firefly Standard\n*8,766* of 10,000 generative credits left · 1,234 used this cycle\n' +
          '• Creative Cloud Pro: 2,766 of 4,000 left\n• Firefly Standard: 2,000 of 2,000 left\n• Add-on 2,000: 2,000 of 2,000 left\n• Add-on 2,000: 2,000 of 2,000 left',
        `Resets on ${june_1}. ${forecast}`,
        '*Figma AI credits* · Full seat\n*4,250* of 4,250 AI credits left · 0 used this cycle\n• Full seat: 4,250 of 4,250 left',
        `Resets on ${june_1}. ${forecast}`,
        '*Copilot premium requests* · Copilot Business\n*300* of 300 premium requests left · 0 used this cycle\n• Copilot Business: 300 of 300 left',
        `Resets on ${june_1}. ${forecast}`,
        'actions',
      ]);
      expect(reply!.blocks.at(-1).elements.map((e: any) => e.action_id)).toEqual([actions.history, actions.requestOpen]);
      expect(slackLimitViolations(reply!)).toEqual([]);
    });

    it("shows a seat's daily limit: what is left today and when it renews", async () => {
      await h.ledger.recordUsage({ id: 'l1', user: 'U0LENA001', tool: 'figma', credits: 100 });
      await h.slack.command('U0LENA001', '');
      // Lena holds one seat, and the org several tools: her one block names its tool too.
      expect(sections(responses[0]!)).toEqual([
        '*Your credits*',
        '*Figma AI credits* · View seat\n*400* of 500 AI credits left · 100 used this cycle\n• View seat: 400 of 500 left',
        `Daily limit: 50 of 150 AI credits left today, renewed <!date^1778457600^{date_short} {time}|11 May 2026 00:00>. Resets on ${june_1}. Too early to forecast: too little usage this cycle so far.`,
        'actions',
      ]);
    });

    it('shows one tool with /credits balance <tool>, and refuses a tool that does not exist with the keys there are', async () => {
      await h.slack.command('U0JACOB01', 'balance Figma');
      expect(responses[0]!.text).toBe('Your credits: Figma AI credits 4,250 of 4,250 AI credits left');
      await h.slack.command('U0LENA001', 'balance copilot');
      expect(responses[1]!.text).toBe('You have no seat in copilot. `/credits` shows the tools you have seats in.');
      await h.slack.command('U0JACOB01', 'balance cursor');
      expect(responses[2]!.text).toBe('there is no tool cursor; the tools are default, figma, copilot');
    });

    it("shows an admin a member's block per tool with /credits @someone, and one tool with /credits @someone <tool>", async () => {
      await h.slack.command('U0ADMIN01', '<@U0JACOB01|jacob>');
      expect(sections(responses[0]!)[0]).toBe("*<@U0JACOB01>'s credits* in 3 tools");
      expect(responses[0]!.blocks.some((b: any) => b.type === 'actions')).toBe(false);
      await h.slack.command('U0ADMIN01', '<@U0JACOB01|jacob> copilot');
      expect(responses[1]!.text).toBe("<@U0JACOB01>'s credits: Copilot premium requests 300 of 300 premium requests left");
    });

    it('counts the seats past ten and says how to see any one', async () => {
      for (let i = 0; i < 9; i++) {
        h.clock.advance(1000);
        await h.ledger.putTool(`tool-${i}`, { name: `Tool ${i}`, unit: 'credits' });
        await h.ledger.putPlan(`plan-${i}`, { name: `Plan ${i}`, credits: 100, tool: `tool-${i}` });
        await h.ledger.putSeat('U0JACOB01', { plan: `plan-${i}` });
      }
      await h.slack.command('U0JACOB01', '');
      const shown = sections(responses[0]!);
      expect(shown[0]).toBe('*Your credits* in 12 tools');
      // Ten tools of two blocks each, then the two left out by key.
      expect(shown[21]).toBe('and 2 more tools: `/credits balance &lt;tool&gt;` shows any one (tool-7, tool-8)');
      expect(shown).toHaveLength(23);
    });

    it('names the tool of each entry in /credits history', async () => {
      await h.ledger.recordUsage({ id: 'f1', user: 'U0JACOB01', tool: 'figma', credits: 300, feature: 'First Draft' });
      await h.slack.command('U0JACOB01', 'history');
      const lines = text(responses[0]!).split('\n');
      expect(lines[1]).toBe('• <!date^1778414401^{date_short}|10 May 2026> — Figma AI credits: used 300 · First Draft');
      expect(lines).toContain('• <!date^1778414401^{date_short}|10 May 2026> — Copilot premium requests: plan granted 300');
    });

    it('shows the App Home with a block per tool and the history naming each tool', async () => {
      await h.ledger.recordUsage({ id: 'c1', user: 'U0JACOB01', tool: 'copilot', credits: 12, feature: 'agent mode' });
      await h.slack.event({ type: 'app_home_opened', user: 'U0JACOB01', tab: 'home', channel: 'D0JACOB' });
      const home = callsTo('views.publish').at(-1)!.view;
      expect(sections(home).slice(0, 2)).toEqual([
        '*Your credits* in 3 tools',
        expect.stringMatching(/^\*Adobe generative credits\* · Creative Cloud Pro \+ Firefly Standard\n\*10,000\* of 10,000 generative credits left/),
      ]);
      expect(text(home)).toContain('— Copilot premium requests: used 12 · agent mode');
      expect(slackLimitViolations(home)).toEqual([]);
    });
  });

  describe('requests', () => {
    it('asks which tool when the member holds two or more seats, and names the tool and its unit all the way to the outcome DM', async () => {
      await h.ledger.recordPurchase({ product: 'copilot-100', quantity: 1 });
      await h.slack.command('U0JACOB01', 'request 300 agent mode all week');
      // The modal opens at once; the read that finds Jacob's three seats adds the menu.
      const [opened] = callsTo('views.open');
      expect(opened!.view.blocks.map((b: any) => b.block_id)).toEqual([blocks.amount, blocks.reason]);
      const asked = filledModal().view;
      expect(asked.blocks[0]).toMatchObject({ block_id: blocks.tool, element: { type: 'static_select', action_id: inputs.tool } });
      expect(asked.blocks[0].element.options.map((o: any) => [o.text.text, o.value])).toEqual([
        ['Adobe generative credits', 'default'], ['Figma AI credits', 'figma'], ['Copilot premium requests', 'copilot'],
      ]);
      expect(asked.blocks[1].element.initial_value).toBe('300');

      await h.slack.submit('U0JACOB01', views.request, {
        ...pick(blocks.tool, inputs.tool, 'copilot'), ...field(blocks.amount, inputs.amount, '300'), ...field(blocks.reason, inputs.reason, 'agent mode all week'),
      });
      const [posted] = postsTo(admin_channel);
      expect(posted!.text).toBe('Credit request from <@U0JACOB01>: 300 premium requests (Copilot premium requests) (pending)');
      expect(text(posted!)).toContain('<@U0JACOB01> asks for *300 premium requests* (Copilot premium requests): agent mode all week');
      expect(dmsTo('U0JACOB01')).toEqual(['Your request for 300 premium requests (Copilot premium requests) went to the admins. You will hear here when one decides.']);

      // The approve modal offers Copilot's packs only, though Adobe add-ons are free too.
      await h.slack.click('U0ADMIN01', actions.approve, posted!.blocks[1].elements[0].value);
      const approve = filledModal().view;
      expect(approve.blocks[0].text.text).toBe('<@U0JACOB01> asked for *300 premium requests* (Copilot premium requests). Assign a free pack, or grant an amount.');
      expect(approve.blocks[1].element.options).toEqual([{ text: { type: 'plain_text', text: 'Copilot +100 (100 premium requests, 1 free)' }, value: 'copilot-100' }]);
      expect(approve.blocks[2].label.text).toBe('Or grant this many premium requests');
      await h.slack.submit('U0ADMIN01', views.approve, field(blocks.amount, inputs.amount, '300'), approve.private_metadata);
      expect((await h.ledger.balance('U0JACOB01', 'copilot')).quota).toBe(600);
      expect(text(callsTo('chat.update').at(-1)!)).toContain(':white_check_mark: Approved by <@U0ADMIN01>');
      expect(await dispatch()).toMatchObject({ sent: 1 });
      expect(dmsTo('U0JACOB01').at(-1)).toBe('Your request for 300 premium requests (Copilot premium requests) was approved by <@U0ADMIN01>: 300 premium requests');
    });

    it('names the tool without asking when the member holds one seat, and files the request there', async () => {
      await h.slack.click('U0LENA001', actions.requestOpen);
      const modal = filledModal().view;
      expect(modal.blocks[0]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'For *Figma AI credits*.' }] });
      expect(modal.private_metadata).toBe('{"tool":"figma"}');
      await h.slack.submit('U0LENA001', views.request, field(blocks.amount, inputs.amount, '100'), modal.private_metadata);
      expect(await h.db.query(`select tool_key as tool, credits from credit_requests`)).toEqual([{ tool: 'figma', credits: 100 }]);
      expect(text(postsTo(admin_channel)[0]!)).toContain('<@U0LENA001> asks for *100 AI credits* (Figma AI credits).');
    });

    it('asks a member with several seats whose form never got the menu to open it again, and files nothing', async () => {
      const res = await h.slack.submit('U0JACOB01', views.request, field(blocks.amount, inputs.amount, '100'));
      expect(res.body).toEqual({
        response_action: 'errors',
        errors: { [blocks.amount]: 'You hold seats in several tools and this form did not ask which: close it and open the request again.' },
      });
      expect(await h.db.query(`select id from credit_requests`)).toEqual([]);
    });
  });

  describe('admin forms', () => {
    /** Opens an admin form from the menu, as an admin clicking its button: the filled-in modal. */
    const openForm = async (form: string) => {
      await h.slack.click('U0ADMIN01', actions.adminMenu, form);
      return filledModal().view;
    };

    it('adds a seat from plans picked by tool, with a vendor login, and refuses plans of two tools', async () => {
      const form = await openForm('seat');
      const plans = form.blocks.find((b: any) => b.block_id === blocks.plans);
      expect(plans.element.type).toBe('multi_static_select');
      expect(plans.element.option_groups.map((g: any) => [g.label.text, g.options.map((o: any) => o.value)])).toEqual([
        ['Adobe generative credits', ['cc-pro', 'firefly']],
        ['Figma AI credits', ['figma-full', 'figma-view']],
        ['Copilot premium requests', ['copilot-business']],
      ]);
      expect(form.blocks.find((b: any) => b.block_id === blocks.vendorUser)).toMatchObject({ optional: true, label: { text: 'Vendor login, such as a GitHub login' } });
      expect(slackLimitViolations(form)).toEqual([]);

      const planPicks = (...keys: string[]) => ({ [blocks.plans]: { [inputs.plans]: { selected_options: keys.map((value) => ({ value })) } } });
      const mixed = await h.slack.submit('U0ADMIN01', views.adminSeat, { ...user('U0MAYA001'), ...planPicks('cc-pro', 'figma-full') });
      expect(mixed.body).toEqual({
        response_action: 'errors',
        errors: { [blocks.plans]: "a seat's plans must all be of one tool; cc-pro, figma-full are of default and figma: send one seat per tool" },
      });
      const added = await h.slack.submit('U0ADMIN01', views.adminSeat, {
        ...user('U0MAYA001'), ...planPicks('copilot-business'), ...field(blocks.vendorUser, inputs.vendorUser, 'maya-gh'),
      });
      expect(added.body).toBeNull();
      expect(dmsTo('U0ADMIN01')).toEqual([
        'Seat created for <@U0MAYA001> on copilot-business (Copilot premium requests): 300 premium requests this cycle. A vendor-console task waits in the App Home.',
      ]);
      expect(await h.db.query(`select s.tool_key as tool, s.vendor_user as login from seats s join members m on m.id = s.member_id where m.slack_id = 'U0MAYA001'`)).toEqual([
        { tool: 'copilot', login: 'maya-gh' },
      ]);
    });

    it('asks which seat to revoke when the member holds several, previews that seat, and revokes it alone', async () => {
      const first = await h.slack.submit('U0ADMIN01', views.adminRevoke, user('U0JACOB01'));
      const picker = first.body.view;
      expect(first.body.response_action).toBe('update');
      expect(picker).toMatchObject({ callback_id: views.adminRevoke, private_metadata: '{"user":"U0JACOB01"}', submit: { text: 'Preview' } });
      expect(text(picker)).toBe('<@U0JACOB01> holds seats in 3 tools.\n');
      expect(picker.blocks[1].element.options.map((o: any) => o.value)).toEqual(['default', 'figma', 'copilot']);
      // Nothing is revoked by asking.
      expect((await h.ledger.balances('U0JACOB01')).tools.map((b) => b.status)).toEqual(['active', 'active', 'active']);

      const preview = await h.slack.submit('U0ADMIN01', views.adminRevoke, pick(blocks.tool, inputs.tool, 'figma'), picker.private_metadata);
      expect(text(preview.body.view)).toBe("Revoking <@U0JACOB01>'s Figma AI credits seat forfeits *4,250* unused plan and manual credits and returns 0 packs to inventory.");
      expect(preview.body.view.private_metadata).toBe('{"confirm":"U0JACOB01","tool":"figma"}');
      await h.slack.submit('U0ADMIN01', views.adminRevoke, {}, preview.body.view.private_metadata);
      expect((await h.ledger.balances('U0JACOB01')).tools.map((b) => [b.tool, b.status])).toEqual([['default', 'active'], ['figma', 'revoked'], ['copilot', 'active']]);
      expect(dmsTo('U0ADMIN01')).toEqual(["Revoked <@U0JACOB01>'s seat (Figma AI credits): 4,250 AI credits forfeited, 0 packs back in inventory."]);
      // Lena holds one seat: no question, straight to the preview.
      const lena = await h.slack.submit('U0ADMIN01', views.adminRevoke, user('U0LENA001'));
      expect(text(lena.body.view)).toMatch(/^Revoking <@U0LENA001>'s Figma AI credits seat forfeits \*500\*/);
      const nobody = await h.slack.submit('U0ADMIN01', views.adminRevoke, user('U0NOBODY1'));
      expect(nobody.body.errors).toEqual({ [blocks.user]: 'That member has no active seat: add one first under Add or restore a seat.' });
    });

    it('asks which seat to adjust with the form prefilled, applies it once however often Slack sends it, and refuses a non-admin', async () => {
      const values = { ...user('U0JACOB01'), ...field(blocks.amount, inputs.amount, '50'), ...field(blocks.reason, inputs.reason, 'conference') };
      const first = await h.slack.submit('U0ADMIN01', views.adminAdjust, values);
      const picker = first.body.view;
      expect(picker).toMatchObject({ callback_id: views.adminAdjust, private_metadata: '{"user":"U0JACOB01"}' });
      expect(picker.blocks.map((b: any) => [b.block_id, b.element?.initial_value])).toEqual([
        [undefined, undefined], [blocks.tool, undefined], [blocks.amount, '50'], [blocks.reason, 'conference'],
      ]);
      const step = { ...pick(blocks.tool, inputs.tool, 'copilot'), ...field(blocks.amount, inputs.amount, '50'), ...field(blocks.reason, inputs.reason, 'conference') };
      const forged = await h.slack.submit('U0JACOB01', views.adminAdjust, step, picker.private_metadata);
      expect(forged.body).toMatchObject({ response_action: 'update', view: { title: { text: 'Not allowed' } } });
      await h.slack.submit('U0ADMIN01', views.adminAdjust, step, picker.private_metadata, { viewId: 'V0ADJ0009' });
      await h.slack.submit('U0ADMIN01', views.adminAdjust, step, picker.private_metadata, { viewId: 'V0ADJ0009', headers: slack_retry });
      expect((await h.ledger.balance('U0JACOB01', 'copilot')).quota).toBe(350);
      expect((await h.ledger.balance('U0JACOB01', 'default')).quota).toBe(10_000);
      expect(dmsTo('U0ADMIN01')).toEqual(['Adjusted <@U0JACOB01> by +50 premium requests (Copilot premium requests): conference.']);
      // Lena holds one seat: applied at once.
      await h.slack.submit('U0ADMIN01', views.adminAdjust, { ...user('U0LENA001'), ...field(blocks.amount, inputs.amount, '-20'), ...field(blocks.reason, inputs.reason, 'typo') });
      expect((await h.ledger.balance('U0LENA001')).quota).toBe(480);
    });

    it('answers a slow seat submission in time with a working view, then shows the result, written once', async () => {
      const slow = slowDown(h.ledger, 'once');
      try {
        const values = { ...user('U0MAYA001'), [blocks.plans]: { [inputs.plans]: { selected_options: [{ value: 'cc-pro' }, { value: 'firefly' }] } } };
        const submitted = h.slack.submit('U0ADMIN01', views.adminSeat, values, '', { viewId: 'V0SEAT001' });
        expect(await h.slack.timers.expireNext()).toBe(view_ack_budget_ms);
        expect((await submitted).body).toMatchObject({ response_action: 'update', view: { blocks: [{ text: { text: expect.stringMatching(/^:hourglass_flowing_sand: Working on it/) } }] } });
        const retried = h.slack.submit('U0ADMIN01', views.adminSeat, values, '', { viewId: 'V0SEAT001', headers: slack_retry });
        await h.slack.timers.expireNext();
        await retried;
        slow.release();
        await h.slack.settled();
        expect(callsTo('views.update').map((u) => text(u.view))).toEqual([
          'Seat created for <@U0MAYA001> on cc-pro + firefly (Adobe generative credits): 6,000 generative credits this cycle. A vendor-console task waits in the App Home.',
          'Seat created for <@U0MAYA001> on cc-pro + firefly (Adobe generative credits): 6,000 generative credits this cycle. A vendor-console task waits in the App Home.',
        ]);
        expect((await h.ledger.balance('U0MAYA001', 'default')).quota).toBe(6000);
        expect(await h.db.query(`select count(*)::int4 as n from seats s join members m on m.id = s.member_id where m.slack_id = 'U0MAYA001'`)).toEqual([{ n: 1 }]);
      } finally {
        slow.restore();
      }
    });

    it("assigns a pack to the seat of its product's tool, and names the tool in purchases and unassignments", async () => {
      await h.slack.submit('U0ADMIN01', views.adminPurchase, { ...field(blocks.key, inputs.key, 'copilot-100'), ...field(blocks.quantity, inputs.quantity, '2') });
      await h.slack.submit('U0ADMIN01', views.adminAssign, { ...user('U0JACOB01'), ...field(blocks.pack, inputs.pack, 'copilot-100') });
      expect((await h.ledger.balance('U0JACOB01', 'copilot')).quota).toBe(400);
      const packId = (await h.db.query<{ id: number }>(`select id from packs where product_key = 'copilot-100' and seat_id is not null`))[0]!.id;
      await h.slack.submit('U0ADMIN01', views.adminUnassign, field(blocks.key, inputs.key, String(packId)));
      const noSeat = await h.slack.submit('U0ADMIN01', views.adminAssign, { ...user('U0LENA001'), ...field(blocks.pack, inputs.pack, 'copilot-100') });
      expect(noSeat.body.errors[blocks.pack]).toBe('U0LENA001 has no active seat in copilot: add one under /credits admin → Add or restore a seat');
      expect(dmsTo('U0ADMIN01')).toEqual([
        'Recorded 2 copilot-100 packs (Copilot premium requests), now free in inventory.',
        'Assigned pack 4 (copilot-100, Copilot premium requests) to <@U0JACOB01>: 100 premium requests this cycle.',
        'Pack 4 (Copilot premium requests) is back in inventory; its next assignee gets 100 premium requests this cycle.',
      ]);
    });

    it("saves a tool with its unit and overage budget, a plan's daily limit, and gives a new entry its tool", async () => {
      const form = await openForm('catalog');
      expect(form.blocks.map((b: any) => b.block_id)).toEqual([
        blocks.kind, blocks.tool, blocks.key, blocks.name, blocks.amount, blocks.reassign, blocks.expires, blocks.dailyLimit, blocks.unit, blocks.budget,
      ]);
      expect(form.blocks[1].element.options.map((o: any) => o.value)).toEqual(['default', 'figma', 'copilot']);
      const catalog = (values: Record<string, Record<string, unknown>>) => h.slack.submit('U0ADMIN01', views.adminCatalog, values);
      const entry = (what: string, key: string, name: string) => ({ ...pick(blocks.kind, inputs.kind, what), ...field(blocks.key, inputs.key, key), ...field(blocks.name, inputs.name, name) });

      const withCredits = await catalog({ ...entry('tool', 'cursor', 'Cursor requests'), ...field(blocks.amount, inputs.amount, '500') });
      expect(withCredits.body.errors).toEqual({ [blocks.amount]: 'A tool has no credits of its own (its plans carry them); leave this empty' });
      expect((await catalog({ ...entry('tool', 'cursor', 'Cursor requests'), ...field(blocks.unit, inputs.unit, 'requests'), ...field(blocks.budget, inputs.budget, '500') })).body).toBeNull();
      expect((await h.ledger.tools()).find((t) => t.key === 'cursor')).toMatchObject({ name: 'Cursor requests', unit: 'requests', overageBudget: 500 });

      const toolless = await catalog({ ...entry('plan', 'cursor-pro', 'Cursor Pro'), ...field(blocks.amount, inputs.amount, '500') });
      expect(toolless.body.errors).toEqual({ [blocks.tool]: 'a plan must name its tool: one of default, figma, copilot, cursor' });
      const daily = await catalog({ ...entry('plan', 'figma-dev', 'Dev seat'), ...pick(blocks.tool, inputs.tool, 'figma'), ...field(blocks.amount, inputs.amount, '1000'), ...field(blocks.dailyLimit, inputs.dailyLimit, '100') });
      expect(daily.body).toBeNull();
      expect((await h.ledger.catalog()).plans.find((p) => p.key === 'figma-dev')).toMatchObject({ toolKey: 'figma', credits: 1000, dailyLimit: 100 });
      // Saved again without a tool or a daily limit, the plan keeps both.
      await catalog({ ...entry('plan', 'figma-dev', 'Dev seat'), ...field(blocks.amount, inputs.amount, '1200') });
      expect((await h.ledger.catalog()).plans.find((p) => p.key === 'figma-dev')).toMatchObject({ toolKey: 'figma', credits: 1200, dailyLimit: 100 });
      const packLimit = await catalog({ ...entry('recurring', 'figma-pack', 'Figma pack'), ...pick(blocks.tool, inputs.tool, 'figma'), ...field(blocks.amount, inputs.amount, '1000'), ...field(blocks.dailyLimit, inputs.dailyLimit, '100') });
      expect(packLimit.body.errors).toEqual({ [blocks.dailyLimit]: 'Only plans have a daily limit; leave this empty' });
      expect(dmsTo('U0ADMIN01')).toEqual([
        'Saved tool cursor (Cursor requests, counted in requests, an overage budget of 500 requests per cycle). Add its plans and pack products under Plans, packs, profiles, naming this tool.',
        "Saved plan figma-dev of Figma AI credits (Dev seat, 1,000 AI credits, at most 100 a member per day). Changes to credits apply from each holder's next cycle.",
        "Saved plan figma-dev of Figma AI credits (Dev seat, 1,200 AI credits, at most 100 a member per day). Changes to credits apply from each holder's next cycle.",
      ]);
    });
  });

  describe('reports', () => {
    /** Figma prices overage at 0.04 and allows 1,000 a cycle; Jacob runs 250 past his seat, Lena 50 past her daily limit. */
    const figmaCycle = async () => {
      await h.ledger.putTool('figma', { name: 'Figma AI credits', overageBudget: 1000, overageUnitCost: '0.04' });
      await h.ledger.recordUsage({ id: 'j-figma', user: 'U0JACOB01', tool: 'figma', credits: 4500 });
      await h.ledger.recordUsage({ id: 'l-figma', user: 'U0LENA001', tool: 'figma', credits: 200 });
    };

    it('gives a line per tool without a tool named, and says how to ask for one', async () => {
      await figmaCycle();
      await h.slack.command('U0ADMIN01', 'report');
      const reply = responses[0]!;
      expect(reply.text).toBe('Reports of 3 tools: name one for its CSV and chart');
      expect(sections(reply)).toEqual([
        '*3 tools, each in its current cycle*\n' +
          '• *Adobe generative credits* (`default`), cycle 2026-05: 1 seat · 0 of 10,000 generative credits used (0 %) · no overage\n' +
          '• *Figma AI credits* (`figma`), cycle 2026-05: 2 seats · 4,700 of 4,750 AI credits used (99 %) · :red_circle: 250 overage (10.00) · 50 past daily limits\n' +
          '• *Copilot premium requests* (`copilot`), cycle 2026-05: 1 seat · 0 of 300 premium requests used (0 %) · no overage',
        "For one tool's report, with its CSV and chart in your DM: `/credits report &lt;tool&gt; [YYYY-MM]`, such as `/credits report default`.",
      ]);
      // No files: the admin has not said which tool.
      expect(callsTo('files.getUploadURLExternal')).toEqual([]);
    });

    it("reports one tool in its unit, with overage priced and the budget's use, and its CSV and chart named after it", async () => {
      await figmaCycle();
      await h.slack.command('U0ADMIN01', 'report figma 2026-05');
      const reply = responses[0]!;
      expect(reply.text).toBe('Figma AI credits, cycle 2026-05: 4,700 of 4,750 AI credits used. The CSV and the chart are in your DM with creditdesk.');
      expect(sections(reply)[0]).toBe(
        '*Figma AI credits, cycle 2026-05*: 2 seats · 4,700 of 4,750 AI credits used (99 %) · 300 left · :red_circle: 250 overage · 0 expired unused\n' +
          "Overage priced at the tool's unit cost: 10.00.\nOverage budget: 250 of 1,000 AI credits used (25 %), 750 left.\n50 AI credits used past plans' daily limits.",
      );
      expect(sections(reply)).toContain('*Top consumers*\n• <@U0JACOB01>: 4,500 of 4,250 (105.9 %), 250 over\n• <@U0LENA001>: 200 of 500 (40 %)');
      expect(callsTo('files.getUploadURLExternal').map((f) => f.filename)).toEqual(['creditdesk-figma-2026-05.csv', 'creditdesk-figma-2026-05.png']);
      const [complete] = callsTo('files.completeUploadExternal');
      expect(JSON.parse(complete!.files).map((f: { title: string }) => f.title)).toEqual(['creditdesk Figma AI credits 2026-05 per member', 'Daily usage of Figma AI credits, 2026-05']);
      expect(complete!.initial_comment).toBe('creditdesk report of Figma AI credits for 2026-05: the per-member table and the chart.');
    });

    it('refuses a tool that does not exist, naming the tools there are', async () => {
      await h.slack.command('U0ADMIN01', 'report 2026-05 cursor');
      expect(responses[0]!.text).toBe('there is no tool cursor; the tools are default, figma, copilot');
    });
  });

  describe('self-reported usage', () => {
    it('logs usage in the tool named, or in the only seat, and asks a member with several seats to name one', async () => {
      await h.slack.command('U0JACOB01', 'log figma 300 First Draft');
      expect(responses[0]!.text).toBe('Recorded 300 AI credits for First Draft: Figma AI credits 3,950 of 4,250 AI credits left');
      await h.slack.command('U0JACOB01', 'log 5');
      expect(responses[1]!.text).toBe('you hold seats in several tools: name one, as /credits log &lt;tool&gt; &lt;amount&gt;, with one of default, figma, copilot');
      await h.slack.command('U0LENA001', 'log 20');
      expect((await h.ledger.balance('U0LENA001')).used).toBe(20);
      expect((await h.ledger.balances('U0JACOB01')).tools.map((b) => b.used)).toEqual([0, 300, 0]);
    });

    it('counts one of a unit in the singular: 1 premium request, 1 seat', async () => {
      await h.slack.command('U0JACOB01', 'log copilot 1 Ask mode');
      expect(responses[0]!.text).toBe('Recorded 1 premium request for Ask mode: Copilot premium requests 299 of 300 premium requests left');
      await h.slack.command('U0ADMIN01', 'report');
      expect(text(responses[1]!)).toContain('• *Copilot premium requests* (`copilot`), cycle 2026-05: 1 seat · 1 of 300 premium requests used (0 %)');
    });

    it('syncs the only seat in a tool that asks for syncs when none is named, and names the tool to the member and the admins', async () => {
      await h.slack.command('U0JACOB01', 'sync 9000');
      expect(responses[0]!.text).toBe('you hold seats in several tools: name one, as /credits sync &lt;tool&gt; &lt;remaining&gt;, with one of default, figma, copilot');
      await h.ledger.putTool('default', { name: 'Adobe generative credits', syncNudge: true });
      await h.slack.command('U0JACOB01', 'sync 9000');
      expect(responses[1]!.text).toBe('Recorded 1,000 generative credits of usage in Adobe generative credits: creditdesk expected 10,000 left, the vendor shows 9,000.');
      expect(postsTo(admin_channel).map((m) => m.text)).toEqual(['<@U0JACOB01> synced with the vendor of Adobe generative credits: expected 10,000, reported 9,000: 1,000 unaccounted.']);
      await h.slack.command('U0LENA001', 'sync 450');
      expect(responses[2]!.text).toBe('Recorded 50 AI credits of usage in Figma AI credits: creditdesk expected 500 left, the vendor shows 450.');
    });

    it('files a correction in the tool named, and names it to the admins and in the outcome DM', async () => {
      await h.slack.command('U0JACOB01', 'sync figma 5000');
      expect(responses[0]!.text).toBe(
        "The vendor of Figma AI credits shows 5,000 left where creditdesk expected 4,250: a correction of +750 AI credits now awaits an admin's confirmation. Your balance stays at 4,250 until then.",
      );
      const [posted] = postsTo(admin_channel);
      expect(posted!.blocks[0].text.text).toBe(
        '<@U0JACOB01> synced with the vendor of Figma AI credits: expected 4,250, reported 5,000: 750 unaccounted.\nConfirming grants them *+750 AI credits* as a correction; a sync never raises a balance by itself.',
      );
      await h.slack.click('U0ADMIN01', actions.syncConfirm, posted!.blocks[1].elements[0].value);
      expect((await h.ledger.balance('U0JACOB01', 'figma')).remaining).toBe(5000);
      expect(text(callsTo('chat.update').at(-1)!)).toContain(':white_check_mark: Confirmed by <@U0ADMIN01>: +750 AI credits granted as a correction');
      expect(dmsTo('U0JACOB01')).toEqual(['<@U0ADMIN01> confirmed your sync in Figma AI credits: +750 AI credits were added to your balance as a correction.']);
    });

    it('shows the tools and how to name one in /credits help', async () => {
      await h.slack.command('U0ADMIN01', 'help');
      const shown = text(responses[0]!);
      expect(shown).toContain('`/credits sync [tool] &lt;remaining&gt;` — tell creditdesk what the vendor app shows as left; without a tool it is your only seat, or your only seat in a tool that asks members for syncs');
      expect(shown).toContain('`/credits report [tool] [YYYY-MM]` — a line per tool, or one tool\'s report with its CSV and chart');
      expect(shown).toContain('*Tools:* `default` Adobe generative credits, `figma` Figma AI credits, `copilot` Copilot premium requests');
    });
  });

  describe('alerts, the digest and the App Home', () => {
    it("names the tool and its unit in a member's alert, a pool's and an overage budget's", async () => {
      await h.ledger.putProfile('design', { name: 'Design', tool: 'figma', poolCredits: 1000 });
      await h.ledger.putSeat('U0JACOB01', { plan: 'figma-full', profile: 'design' });
      await h.ledger.putTool('copilot', { name: 'Copilot premium requests', overageBudget: 100 });
      await h.ledger.recordUsage({ id: 'c-half', user: 'U0JACOB01', tool: 'copilot', credits: 150 });
      await h.ledger.recordUsage({ id: 'f-pool', user: 'U0JACOB01', tool: 'figma', credits: 5000 });
      await h.ledger.recordUsage({ id: 'c-over', user: 'U0JACOB01', tool: 'copilot', credits: 225 });
      for (let round = 0; round < 12 && (await dispatch()).claimed > 0; round++) h.clock.advance(1_200);
      expect(dmsTo('U0JACOB01')[0]).toMatch(/^You have used 50 % of your Copilot premium requests this cycle\. 150 of 300 premium requests used; 150 of your own left\./);
      const alerts = postsTo(alert_channel).map((m) => m.text as string);
      expect(alerts).toContain('The design shared pool of Figma AI credits is 75 % used. 250 of 1,000 AI credits left; the pool refills on 1 Jun 2026.');
      expect(alerts).toContain('The Copilot premium requests overage budget is 75 % used. 25 of 100 premium requests left; the budget renews on 1 Jun 2026.');
      // Request more under the alert opens the request for the alert's tool, still letting Jacob pick another.
      const button = postsTo('U0JACOB01')[0]!.blocks.at(-1).elements[0];
      expect(button).toMatchObject({ action_id: actions.requestOpen, value: 'copilot' });
      await h.slack.click('U0JACOB01', button.action_id, button.value);
      expect(filledModal().view.blocks[0].element.initial_option).toEqual({ text: { type: 'plain_text', text: 'Copilot premium requests' }, value: 'copilot' });
    });

    it('sends the weekly digest per tool, each in its unit', async () => {
      await h.ledger.recordUsage({ id: 'c1', user: 'U0JACOB01', tool: 'copilot', credits: 150 });
      await h.ledger.recordUsage({ id: 'f1', user: 'U0LENA001', tool: 'figma', credits: 100 });
      h.clock.set('2026-05-11T09:00:00Z'); // Monday
      await runDigestJob(h.ledger, h.clock.now());
      await h.db.query(`delete from outbox where kind <> 'digest'`);
      await dispatch();
      const [digest] = postsTo(admin_channel);
      expect(digest!.text).toBe(
        'Weekly AI credit digest: 3 of 3 tools in use. Used this week: Adobe generative credits 0 generative credits; Figma AI credits 100 AI credits; Copilot premium requests 150 premium requests.',
      );
      expect(sections(digest!)).toEqual([
        '*Weekly AI credit digest: 3 of 3 tools in use.*',
        '*Adobe generative credits*: 0 generative credits used this week (no usage the week before) · no overage',
        '*By profile:* no profile 0 of 10,000 (0 %)\n*Top consumers:* no usage yet\n*Over 80 %:* nobody\n*Free packs:* 1 × addon',
        '*Figma AI credits*: 100 AI credits used this week (no usage the week before) · no overage',
        '*By profile:* no profile 100 of 4,750 (2 %)\n*Top consumers:* 1. <@U0LENA001> 100 of 500 (20 %)\n*Over 80 %:* nobody\n*Free packs:* none',
        '*Copilot premium requests*: 150 premium requests used this week (no usage the week before) · no overage',
        '*By profile:* no profile 150 of 300 (50 %)\n*Top consumers:* 1. <@U0JACOB01> 150 of 300 (50 %)\n*Over 80 %:* nobody\n*Free packs:* none',
      ]);
    });

    it("shows an admin's App Home a line per tool, pools and packs with their tool, and vendor-console tasks naming the tool", async () => {
      await h.ledger.putProfile('design', { name: 'Design', tool: 'figma', poolCredits: 1000 });
      await h.slack.event({ type: 'app_home_opened', user: 'U0ADMIN01', tab: 'home', channel: 'D0ADMIN' });
      const home = callsTo('views.publish').at(-1)!.view;
      const shown = sections(home);
      expect(shown).toContain(
        '*Organisation: 3 tools*\n' +
          '• *Adobe generative credits*, cycle 2026-05: 1 seat · 0 of 10,000 generative credits used · no overage\n' +
          '• *Figma AI credits*, cycle 2026-05: 2 seats · 0 of 4,750 AI credits used · no overage\n' +
          '• *Copilot premium requests*, cycle 2026-05: 1 seat · 0 of 300 premium requests used · no overage',
      );
      expect(shown).toContain('*Packs*\n• addon (Adobe generative credits): 1 free, 2 assigned (#1 <@U0JACOB01>, #2 <@U0JACOB01>)');
      expect(shown).toContain('*Pools*\n• design (Figma AI credits): 1,000 of 1,000 left');
      expect(shown).toContain('Assign a Creative Cloud Pro and Firefly Standard license to jacob@example.com in the vendor console of Adobe generative credits');
      expect(slackLimitViolations(home)).toEqual([]);
    });
  });
});
