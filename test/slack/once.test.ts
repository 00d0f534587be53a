// Every write from Slack happens once, whatever Slack or a network retries; a modal submission
// answers Slack in time however slow the database; and a sync is a report, not a grant.
import { describe, expect, it } from 'vitest';
import { actions, blocks, inputs, views } from '../../src/slack/ids.ts';
import { view_ack_budget_ms } from '../../src/slack/listeners/views/in-time.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { admin_channel, answers, callsTo, responses, slack_retry, slowDown, useSlackApp } from './helpers.ts';
import { HttpResponse } from 'msw';

const text = (view: { blocks?: any[] }) => (view.blocks ?? []).map((b) => b.text?.text ?? b.elements?.map((e: any) => e.text?.text ?? e.text).join(' ') ?? '').join('\n');
type Values = Record<string, Record<string, unknown>>;

describeEachDatabase('writes from Slack on %s', (kind) => {
  const h = useSlackApp(kind, '2026-05-10T12:00:00Z');
  const count = async (table: string) => (await h.db.query<{ n: number }>(`select count(*)::int8 as n from ${table}`))[0]!.n;
  const dmsTo = (user: string) => callsTo('chat.postMessage').filter((m) => m.channel === user).map((m) => m.text as string);
  const adminPosts = () => callsTo('chat.postMessage').filter((m) => m.channel === admin_channel);
  const remaining = async (user = 'U0MAYA001') => (await h.ledger.balance(user)).remaining;

  const seats = async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
  };

  /** Slack sending the same slash command `n` times at once: the first delivery and its retries. */
  const deliveries = (n: number, commandText: string, triggerId: string) =>
    Promise.all(Array.from({ length: n }, (_, i) => h.slack.command('U0MAYA001', commandText, { triggerId, headers: i === 0 ? {} : slack_retry })));

  describe('commands', () => {
    it('records five identical /credits sync deliveries arriving together as one usage entry', async () => {
      await seats();
      const answered = await deliveries(5, 'sync 3000', 'trig-sync-below');
      expect(answered.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(await remaining()).toBe(3000);
      expect(await h.db.query(`select credits, feature from journal where kind = 'usage'`)).toEqual([{ credits: 1000, feature: 'sync' }]);
      // Every delivery is told the first outcome; only the one that applied it flags the gap.
      expect(new Set(responses.map((r) => r.text))).toEqual(new Set(['Recorded 1,000 credits of usage: creditdesk expected 4,000 left, the vendor shows 3,000.']));
      expect(adminPosts()).toHaveLength(1);
    });

    it('files five identical /credits sync 5000 deliveries arriving together as one pending correction, raising nothing', async () => {
      await seats();
      await deliveries(5, 'sync 5000', 'trig-sync-above');
      expect(await remaining()).toBe(4000);
      expect(await count('sync_corrections')).toBe(1);
      expect(await h.db.query(`select kind from journal where kind <> 'seat_grant'`)).toEqual([]);
      expect(adminPosts()).toHaveLength(1);
      expect(new Set(responses.map((r) => r.text))).toEqual(
        new Set(["The vendor shows 5,000 left where creditdesk expected 4,000: a correction of +1,000 credits now awaits an admin's confirmation. Your balance stays at 4,000 until then."]),
      );
    });

    it('records five identical /credits log deliveries arriving together once', async () => {
      await seats();
      await deliveries(5, 'log 250 image generation', 'trig-log-5');
      expect((await h.ledger.balance('U0MAYA001')).used).toBe(250);
      expect(await count('journal')).toBe(2);
    });
  });

  describe('admin forms', () => {
    const user = (id: string) => ({ [blocks.user]: { [inputs.user]: { selected_user: id } } });
    const field = (block: string, input: string, value: string) => ({ [block]: { [input]: { value } } });

    /** Each admin form that writes, a submission of it, and what its one application leaves behind. */
    const forms: { name: string; callbackId: string; prepare?: () => Promise<unknown>; values: Values; metadata?: string; applied: () => Promise<unknown>; expected: unknown }[] = [
      {
        name: 'seat', callbackId: views.adminSeat, values: { ...user('U0LENA001'), ...field(blocks.plan, inputs.plan, 'pro') },
        applied: async () => [(await h.ledger.balance('U0LENA001')).quota, await count('vendor_tasks')], expected: [4000, 2],
      },
      {
        name: 'revoke', callbackId: views.adminRevoke, values: {}, metadata: JSON.stringify({ confirm: 'U0MAYA001' }),
        applied: async () => [(await h.ledger.balance('U0MAYA001')).status, await count(`journal where kind = 'revoke'`)], expected: ['revoked', 1],
      },
      {
        name: 'assign', callbackId: views.adminAssign, prepare: () => h.ledger.recordPurchase({ product: 'addon', quantity: 2 }),
        values: { ...user('U0MAYA001'), ...field(blocks.pack, inputs.pack, 'addon') },
        applied: async () => [(await h.ledger.balance('U0MAYA001')).quota, await count('packs where seat_id is not null')], expected: [6000, 1],
      },
      {
        name: 'unassign', callbackId: views.adminUnassign,
        prepare: async () => {
          await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
          await h.ledger.assignPack({ product: 'addon', user: 'U0MAYA001' });
        },
        values: field(blocks.key, inputs.key, '1'),
        applied: async () => [(await h.ledger.balance('U0MAYA001')).quota, await count(`journal where kind = 'unassign'`)], expected: [4000, 1],
      },
      {
        name: 'purchase', callbackId: views.adminPurchase, values: { ...field(blocks.key, inputs.key, 'addon'), ...field(blocks.quantity, inputs.quantity, '2') },
        applied: () => count('packs'), expected: 2,
      },
      {
        name: 'adjust', callbackId: views.adminAdjust,
        values: { ...user('U0MAYA001'), ...field(blocks.amount, inputs.amount, '300'), ...field(blocks.reason, inputs.reason, 'conference') },
        applied: async () => (await h.ledger.balance('U0MAYA001')).quota, expected: 4300,
      },
      {
        name: 'catalog', callbackId: views.adminCatalog,
        values: {
          [blocks.kind]: { [inputs.kind]: { selected_option: { value: 'plan' } } },
          ...field(blocks.key, inputs.key, 'team'), ...field(blocks.name, inputs.name, 'Team'), ...field(blocks.amount, inputs.amount, '8000'),
        },
        applied: async () => (await h.ledger.catalog()).plans.map((p) => p.key), expected: ['pro', 'team'],
      },
      {
        name: 'promote', callbackId: views.adminPromote, values: user('U0LENA001'),
        applied: () => h.ledger.isPromotedAdmin('U0LENA001'), expected: true,
      },
    ];

    it.each(forms)('applies a retried $name submission once, telling the admin once', async (form) => {
      await seats();
      await form.prepare?.();
      const first = await h.slack.submit('U0ADMIN01', form.callbackId, form.values, form.metadata, { viewId: 'V0FORM001' });
      const retried = await h.slack.submit('U0ADMIN01', form.callbackId, form.values, form.metadata, { viewId: 'V0FORM001', headers: slack_retry });
      // Both close the modal: the retry is the same write, not a second one that a refusal would show.
      expect([first.body, retried.body]).toEqual([null, null]);
      expect(await form.applied()).toEqual(form.expected);
      expect(dmsTo('U0ADMIN01')).toHaveLength(1);
      expect(await count('applied_keys')).toBe(1);
    });

    it('applies concurrent identical purchase submissions once, and the same form with other values again', async () => {
      await seats();
      const purchase = (quantity: string, sent = {}) =>
        h.slack.submit('U0ADMIN01', views.adminPurchase, { ...field(blocks.key, inputs.key, 'addon'), ...field(blocks.quantity, inputs.quantity, quantity) }, '', { viewId: 'V0BUY0001', ...sent });
      await Promise.all([purchase('2'), purchase('2', { headers: slack_retry }), purchase('2', { headers: slack_retry })]);
      expect(await count('packs')).toBe(2);
      expect(dmsTo('U0ADMIN01')).toEqual(['Recorded 2 addon packs, now free in inventory.']);
      await purchase('3');
      expect(await count('packs')).toBe(5);
    });

    it('applies a retried adjust once, and the same form sent again with another reason again', async () => {
      await seats();
      const adjust = (reason: string, sent = {}) =>
        h.slack.submit('U0ADMIN01', views.adminAdjust, { ...user('U0MAYA001'), ...field(blocks.amount, inputs.amount, '300'), ...field(blocks.reason, inputs.reason, reason) }, '', { viewId: 'V0ADJ0001', ...sent });
      await adjust('conference');
      await adjust('conference', { headers: slack_retry });
      expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4300);
      await adjust('second conference');
      expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4600);
    });

    it('applies a retried assign once, and the same form for another member again', async () => {
      await seats();
      await h.ledger.putSeat('U0LENA001', { plan: 'pro' });
      await h.ledger.recordPurchase({ product: 'addon', quantity: 2 });
      const assign = (member: string, sent = {}) =>
        h.slack.submit('U0ADMIN01', views.adminAssign, { ...user(member), ...field(blocks.pack, inputs.pack, 'addon') }, '', { viewId: 'V0ASG0001', ...sent });
      await assign('U0MAYA001');
      await assign('U0MAYA001', { headers: slack_retry });
      expect(await count('packs where seat_id is not null')).toBe(1);
      await assign('U0LENA001');
      expect([(await h.ledger.balance('U0MAYA001')).quota, (await h.ledger.balance('U0LENA001')).quota]).toEqual([6000, 6000]);
    });

    it('leaves the key free after a field error, so the corrected form applies', async () => {
      await seats();
      const adjust = (amount: string) =>
        h.slack.submit('U0ADMIN01', views.adminAdjust, { ...user('U0MAYA001'), ...field(blocks.amount, inputs.amount, amount), ...field(blocks.reason, inputs.reason, 'fix') }, '', { viewId: 'V0ADJ0002' });
      const refused = await adjust('-5000');
      expect(refused.body).toEqual({
        response_action: 'errors',
        errors: { [blocks.amount]: "cannot debit 5,000 credits: only 4,000 of the member's own credits remain until the reset on 2026-06-01T00:00:00.000Z" },
      });
      expect((await adjust('-500')).body).toBeNull();
      expect((await h.ledger.balance('U0MAYA001')).quota).toBe(3500);
    });
  });

  describe('buttons', () => {
    // Their own claim (a compare-and-set on the pending or open row) is their exactly-once.
    it('denies a request once for two clicks arriving together', async () => {
      await seats();
      const { request } = await h.ledger.fileRequest('U0MAYA001', 500, null);
      await Promise.all([h.slack.click('U0ADMIN01', actions.deny, String(request.id)), h.slack.click('U0ADMIN01', actions.deny, String(request.id))]);
      expect(await h.db.query(`select kind, dedupe_key as "dedupeKey" from outbox`)).toEqual([{ kind: 'request_outcome', dedupeKey: 'request:1' }]);
      expect(responses.map((r) => r.text)).toEqual(['That request was already denied by <@U0ADMIN01>.']);
    });

    it('marks a vendor task done once for two clicks arriving together', async () => {
      await seats();
      await Promise.all([h.slack.click('U0ADMIN01', actions.taskDone, '1'), h.slack.click('U0ADMIN01', actions.taskDone, '1')]);
      expect(await h.db.query(`select done_by as "doneBy" from vendor_tasks`)).toEqual([{ doneBy: 'U0ADMIN01' }]);
    });
  });

  describe('answering in time', () => {
    it("answers a slow submission within Slack's 3 s with a working view, then shows the result by views.update", async () => {
      await seats();
      const slow = slowDown(h.ledger, 'once');
      try {
        const submitted = h.slack.submit('U0ADMIN01', views.adminAdjust, {
          [blocks.user]: { [inputs.user]: { selected_user: 'U0MAYA001' } },
          [blocks.amount]: { [inputs.amount]: { value: '300' } },
          [blocks.reason]: { [inputs.reason]: { value: 'conference' } },
        }, '', { viewId: 'V0SLOW001' });
        // The budget runs out while the ledger is still at work.
        expect(await h.slack.timers.expireNext()).toBe(view_ack_budget_ms);
        const answered = await submitted;
        expect(answered.body).toMatchObject({ response_action: 'update', view: { title: { text: 'creditdesk' } } });
        expect(text(answered.body.view)).toMatch(/^:hourglass_flowing_sand: Working on it/);
        expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4000);
        expect(callsTo('views.update')).toEqual([]);

        slow.release();
        await h.slack.settled();
        const [update] = callsTo('views.update');
        expect(update!.view_id).toBe('V0SLOW001');
        expect(text(update!.view)).toBe('Adjusted <@U0MAYA001> by +300 credits: conference.');
        expect(dmsTo('U0ADMIN01')).toEqual(['Adjusted <@U0MAYA001> by +300 credits: conference.']);
        expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4300);
      } finally {
        slow.restore();
      }
    });

    it('shows a slow refusal in the modal by views.update, with nothing changed', async () => {
      await seats();
      const slow = slowDown(h.ledger, 'once');
      try {
        const submitted = h.slack.submit('U0ADMIN01', views.adminAdjust, {
          [blocks.user]: { [inputs.user]: { selected_user: 'U0MAYA001' } },
          [blocks.amount]: { [inputs.amount]: { value: '-5000' } },
          [blocks.reason]: { [inputs.reason]: { value: 'typo' } },
        });
        await h.slack.timers.expireNext();
        expect((await submitted).body.response_action).toBe('update');
        slow.release();
        await h.slack.settled();
        expect(text(callsTo('views.update')[0]!.view)).toBe(
          ":warning: cannot debit 5,000 credits: only 4,000 of the member's own credits remain until the reset on 2026-06-01T00:00:00.000Z Nothing was changed; open the form again to fix it.",
        );
        expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4000);
      } finally {
        slow.restore();
      }
    });

    it('sends a late result by DM when the modal was closed in the meantime', async () => {
      await seats();
      const slow = slowDown(h.ledger, 'once');
      try {
        const submitted = h.slack.submit('U0ADMIN01', views.adminPurchase, {
          [blocks.key]: { [inputs.key]: { value: 'addon' } },
          [blocks.quantity]: { [inputs.quantity]: { value: '1' } },
        });
        await h.slack.timers.expireNext();
        await submitted;
        answers.set('views.update', () => HttpResponse.json({ ok: false, error: 'not_found' }));
        slow.release();
        await h.slack.settled();
        expect(dmsTo('U0ADMIN01')).toEqual(['Recorded 1 addon pack, now free in inventory.']);
      } finally {
        slow.restore();
      }
    });

    it('opens the approve modal and the admin menu before reading anything, then fills them in', async () => {
      await seats();
      // A promoted admin: checking them takes a database read, unlike ADMIN_USER_IDS.
      await h.ledger.promoteAdmin('U0ADMIN02');
      const { request } = await h.ledger.fileRequest('U0MAYA001', 500, null);
      const order: string[] = [];
      answers.set('views.open', () => {
        order.push('views.open');
        return HttpResponse.json({ ok: true, view: { id: 'V0LOAD001' } });
      });
      const { isPromotedAdmin, request: read } = h.ledger;
      h.ledger.isPromotedAdmin = (id) => (order.push('isPromotedAdmin'), isPromotedAdmin(id));
      h.ledger.request = (id) => (order.push('request'), read(id));
      try {
        await h.slack.click('U0ADMIN02', actions.approve, String(request.id));
        await h.slack.command('U0ADMIN02', 'admin');
      } finally {
        Object.assign(h.ledger, { isPromotedAdmin, request: read });
      }
      expect(order).toEqual(['views.open', 'isPromotedAdmin', 'request', 'views.open', 'isPromotedAdmin']);
      expect(callsTo('views.update').map((u) => [u.view_id, u.view.title.text])).toEqual([
        ['V0LOAD001', 'Approve request'],
        ['V0LOAD001', 'creditdesk admin'],
      ]);
      expect(callsTo('views.update')[0]!.view.callback_id).toBe(views.approve);
    });
  });

  describe('sync corrections', () => {
    const correctionButtons = () => adminPosts().at(-1)!.blocks[1].elements as { action_id: string; value: string }[];

    it('writes nothing for a sync above the figure until an admin confirms, refuses a non-admin, and applies a second confirm never', async () => {
      await seats();
      const entries = await count('journal');
      await h.slack.command('U0MAYA001', 'sync 5000');
      expect(responses.at(-1)!.text).toBe(
        "The vendor shows 5,000 left where creditdesk expected 4,000: a correction of +1,000 credits now awaits an admin's confirmation. Your balance stays at 4,000 until then.",
      );
      const [post] = adminPosts();
      expect(text(post!)).toContain('<@U0MAYA001> synced with the vendor: expected 4,000, reported 5,000: 1,000 unaccounted.');
      const [confirm, dismiss] = correctionButtons();
      expect([confirm!.action_id, dismiss!.action_id]).toEqual([actions.syncConfirm, actions.syncDismiss]);
      expect([await remaining(), await count('journal')]).toEqual([4000, entries]);

      // A member clicking Confirm, even on a forged request, is refused and changes nothing.
      await h.slack.click('U0MAYA001', actions.syncConfirm, confirm!.value);
      expect(responses.at(-1)!.text).toBe('Only creditdesk admins can do that. Ask an admin if you need it done; nothing was changed.');
      expect([await remaining(), await count('journal')]).toEqual([4000, entries]);

      await h.slack.click('U0ADMIN01', actions.syncConfirm, confirm!.value);
      expect(await remaining()).toBe(5000);
      const [grant] = await h.db.query(`select kind, actor, reason, credits from journal where kind = 'adjustment'`);
      expect(grant).toEqual({ kind: 'adjustment', actor: 'U0ADMIN01', credits: 1000, reason: 'sync correction 1: the vendor showed 5,000 left where creditdesk expected 4,000' });
      expect(text(callsTo('chat.update').at(-1)!)).toContain(':white_check_mark: Confirmed by <@U0ADMIN01>: +1,000 credits granted as a correction');
      expect(dmsTo('U0MAYA001')).toEqual(['<@U0ADMIN01> confirmed your sync: +1,000 credits were added to your balance as a correction.']);

      // A second click, or a second admin: already decided, nothing more.
      await h.db.query(`insert into members (slack_id, is_admin) values ('U0ADMIN02', true)`);
      await h.slack.click('U0ADMIN02', actions.syncConfirm, confirm!.value);
      expect(responses.at(-1)!.text).toBe('That correction was already confirmed by <@U0ADMIN01>.');
      await h.slack.click('U0ADMIN01', actions.syncDismiss, dismiss!.value);
      expect(responses.at(-1)!.text).toBe('That correction was already confirmed by <@U0ADMIN01>.');
      expect([await remaining(), await count(`journal where kind = 'adjustment'`)]).toEqual([5000, 1]);
    });

    it('writes nothing when an admin dismisses a correction', async () => {
      await seats();
      const entries = await count('journal');
      await h.slack.command('U0MAYA001', 'sync 4500');
      const [, dismiss] = correctionButtons();
      await h.slack.click('U0ADMIN01', actions.syncDismiss, dismiss!.value);
      expect([await remaining(), await count('journal')]).toEqual([4000, entries]);
      expect(text(callsTo('chat.update').at(-1)!)).toContain(':x: Dismissed by <@U0ADMIN01>: nothing granted');
      await h.slack.click('U0ADMIN01', actions.syncConfirm, dismiss!.value);
      expect(responses.at(-1)!.text).toBe('That correction was already dismissed by <@U0ADMIN01>.');
      expect(await remaining()).toBe(4000);
    });

    it('replaces a pending correction with the next sync, so confirming the old one grants nothing', async () => {
      await seats();
      await h.slack.command('U0MAYA001', 'sync 6000');
      const [oldConfirm] = correctionButtons();
      await h.slack.command('U0MAYA001', 'sync 4200');
      expect(text(callsTo('chat.update').at(-1)!)).toContain('Superseded by a later sync: nothing granted here');
      await h.slack.click('U0ADMIN01', actions.syncConfirm, oldConfirm!.value);
      expect(responses.at(-1)!.text).toBe('That correction was superseded by a later sync; decide on the newest one.');
      const [newConfirm] = correctionButtons();
      await h.slack.click('U0ADMIN01', actions.syncConfirm, newConfirm!.value);
      expect(await remaining()).toBe(4200);
    });

    it("posts a Slack retry's correction to the admins once", async () => {
      await seats();
      await h.slack.command('U0MAYA001', 'sync 4500', { triggerId: 'trig-sync-retry' });
      await h.slack.command('U0MAYA001', 'sync 4500', { triggerId: 'trig-sync-retry', headers: slack_retry });
      expect(adminPosts()).toHaveLength(1);
      expect(responses.map((r) => r.text)).toEqual([responses[0]!.text, responses[0]!.text]);
      expect(await count('sync_corrections')).toBe(1);
    });

    it('tells the member to sync again when Slack does not pass the correction to the admins', async () => {
      await seats();
      answers.set('chat.postMessage', () => new HttpResponse('upstream error', { status: 500 }));
      await h.slack.command('U0MAYA001', 'sync 4500');
      expect(responses.at(-1)!.text).toMatch(/Slack did not pass it to the admins just now: run \/credits sync again in a few minutes\.$/);
      expect(await remaining()).toBe(4000);
    });
  });
});
