// Every write from Slack happens once, whatever Slack or a network retries; a modal submission
// answers Slack in time however slow the database; and a sync is a report, not a grant.
import { describe, expect, it } from 'vitest';
import { actions, blocks, inputs, views } from '../../src/slack/ids.ts';
import { view_ack_budget_ms } from '../../src/slack/listeners/views/in-time.ts';
import { database_kinds } from '../helpers/db.ts';
import { admin_channel, answers, callsTo, responses, slack_retry, slowDown, useSlackApp } from './helpers.ts';
import { HttpResponse } from 'msw';

const text = (view: { blocks?: any[] }) => (view.blocks ?? []).map((b) => b.text?.text ?? b.elements?.map((e: any) => e.text?.text ?? e.text).join(' ') ?? '').join('\n');
type Values = Record<string, Record<string, unknown>>;

describe.each(database_kinds)('writes from Slack on %s', (kind) => {
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
      expect(dmsTo('U0ADMIN01')).toEqual(['Recorded 2 addon pack(s), now free in inventory.']);
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
        expect(dmsTo('U0ADMIN01')).toEqual(['Recorded 1 addon pack(s), now free in inventory.']);
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
});
