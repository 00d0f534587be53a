// The Slack app as people use it: /credits forms, the request-approve-DM flow, admin forms,
// the App Home, refusals for non-admins, bad signatures, retries, double clicks and Slack errors.
import { HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { Dispatcher, slackSender } from '../../src/jobs/dispatcher.ts';
import { actions, blocks, inputs, views } from '../../src/slack/ids.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { admin_channel, answers, calls, callsTo, reset, responses, slack_api, slack_retry, startSlackApp, uploads, useSlackApp } from './helpers.ts';

const text = (blocksOrMessage: { blocks?: any[] }) => (blocksOrMessage.blocks ?? []).map((b) => b.text?.text ?? b.elements?.map((e: any) => e.text?.text ?? e.text).join(' ') ?? '').join('\n');

describeEachDatabase('the Slack app on %s', (kind) => {
  const h = useSlackApp(kind, '2026-05-10T12:00:00Z');
  const { clock } = h;
  /** One round of the outbox dispatcher, as the app's jobs run it: the requester's outcome DM goes this way. */
  const dispatch = () => new Dispatcher({ ctx: h.ledger.ctx, sender: slackSender({ botToken: 'xoxb-test', apiUrl: slack_api }), adminChannelId: admin_channel }).round();
  const dmsTo = (user: string) => callsTo('chat.postMessage').filter((m) => m.channel === user).map((m) => m.text as string);
  /** A modal that needs the database opens as a loading view, then views.update fills it in: the last one filled. */
  const filledModal = () => callsTo('views.update').at(-1)!;

  beforeEach(async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
  });

  it('refuses a request with a bad signature and does nothing', async () => {
    const res = await h.slack.command('U0MAYA001', 'log 100', { secret: 'not-the-secret' });
    expect(res.status).toBe(401);
    expect(responses).toHaveLength(0);
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(0);
  });

  it('refuses a correctly signed request older than five minutes, so a captured one cannot be replayed', async () => {
    const signedAt = new Date(Date.now() - 6 * 60_000);
    const res = await h.slack.command('U0MAYA001', 'log 100', { signedAt });
    expect(res.status).toBe(401);
    expect(responses).toHaveLength(0);
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(0);
    // Four minutes old is still inside the window.
    await h.slack.command('U0MAYA001', 'log 100', { signedAt: new Date(Date.now() - 4 * 60_000) });
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(100);
  });

  it('answers /credits with the balance by source, the reset date, the forecast and two buttons', async () => {
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    await h.ledger.assignPack({ product: 'addon', user: 'U0MAYA001' });
    await h.ledger.recordUsage({ id: 'u1', user: 'U0MAYA001', credits: 1234 });
    expect((await h.slack.command('U0MAYA001', '')).status).toBe(200);
    const [reply] = responses;
    expect(reply!.response_type).toBe('ephemeral');
    expect(reply!.text).toBe('Your AI credits: 4,766 of 6,000 left, resets on 1 Jun 2026');
    const shown = text(reply!);
    expect(shown).toContain('*4,766* of 6,000 left · 1,234 used this cycle');
    expect(shown).toContain('• Pro: 2,766 of 4,000 left');
    expect(shown).toContain('• Add-on 2,000: 2,000 of 2,000 left');
    expect(shown).toContain('Resets on <!date^1780272000^{date_short}|1 Jun 2026>. Too early to forecast: too little usage this cycle so far.');
    expect(reply!.blocks.at(-1).elements.map((e: any) => e.action_id)).toEqual([actions.history, actions.requestOpen]);
  });

  it("writes dates as Slack date tokens, which each reader's Slack shows in their own time zone", async () => {
    await h.ledger.putSeat('U0LENA001', { plan: 'pro' });
    await h.slack.command('U0LENA001', '');
    // The cycle ends at midnight UTC on 1 June: a reader in Los Angeles sees 31 May, one in Berlin
    // 1 June. The fallback and the text say the org's day; no profile is looked up for it.
    expect(responses.at(-1)!.text).toBe('Your AI credits: 4,000 of 4,000 left, resets on 1 Jun 2026');
    expect(text(responses.at(-1)!)).toContain('Resets on <!date^1780272000^{date_short}|1 Jun 2026>.');
    expect(callsTo('users.info')).toEqual([]);
  });

  it('shows the help with what was wrong for an unknown or malformed command', async () => {
    await h.slack.command('U0MAYA001', 'gimme 500');
    await h.slack.command('U0MAYA001', 'log lots');
    expect(text(responses[0]!)).toContain(':warning: "gimme" is not a /credits command');
    expect(text(responses[1]!)).toContain('/credits log needs an amount: the amount must be a number of credits');
    expect(text(responses[0]!)).toContain('`/credits request [amount] [reason]`');
  });

  it('tells a member without a seat, and an admin asking about one, in Slack words rather than API routes', async () => {
    await h.slack.command('U0NOSEAT1', '');
    expect(responses.at(-1)!.text).toBe('You have no seat in creditdesk yet, so there are no credits to show. An admin can add one with /credits admin.');
    await h.slack.command('U0NOSEAT1', 'log 50');
    expect(responses.at(-1)!.text).toBe('You have no seat in creditdesk yet, so there are no credits to show. An admin can add one with /credits admin.');
    await h.slack.command('U0ADMIN01', '<@U0NOSEAT1>');
    expect(responses.at(-1)!.text).toBe('<@U0NOSEAT1> has no seat in creditdesk yet; add one with /credits admin → Add or restore a seat.');
  });

  it('shows /credits help with the forms each person can use', async () => {
    await h.slack.command('U0MAYA001', 'help');
    await h.slack.command('U0ADMIN01', 'help');
    const [member, admin] = responses.map(text);
    expect(member).toContain('`/credits log &lt;amount&gt; [feature]`');
    expect(member).not.toContain('`/credits admin`');
    expect(admin).toContain('`/credits admin` — seats, packs, adjustments');
    expect(admin).toContain('`/credits @someone`');
  });

  it('refuses /credits log and sync when self-reporting is off, saying so with the help', async () => {
    const closed = await startSlackApp(h.ledger, { selfReporting: false });
    try {
      await closed.command('U0MAYA001', 'log 100');
      expect(text(responses.at(-1)!)).toContain(':warning: self-reporting is off in this workspace; an admin can turn it on');
      expect(text(responses.at(-1)!)).not.toContain('/credits log');
      expect((await h.ledger.balance('U0MAYA001')).used).toBe(0);
    } finally {
      await closed.close();
    }
  });

  it('lists the history of this cycle', async () => {
    await h.ledger.recordUsage({ id: 'u1', user: 'U0MAYA001', credits: 300, feature: 'generative fill' });
    await h.slack.command('U0MAYA001', 'history');
    expect(text(responses[0]!)).toContain('• <!date^1778414400^{date_short}|10 May 2026> — used 300 · generative fill');
  });

  it('records self-reported usage once, even when Slack retries the command', async () => {
    await h.slack.command('U0MAYA001', 'log 250 image generation', { triggerId: 'trig-log' });
    await h.slack.command('U0MAYA001', 'log 250 image generation', { triggerId: 'trig-log', headers: slack_retry });
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(250);
    expect(responses[0]!.text).toMatch(/^Recorded 250 credits for image generation/);
  });

  it('records a /credits sync below creditdesk\'s figure as usage, and flags a large gap to the admins', async () => {
    await h.slack.command('U0MAYA001', 'sync 3000');
    expect(responses[0]!.text).toBe('Recorded 1,000 credits of usage: creditdesk expected 4,000 left, the vendor shows 3,000.');
    expect(callsTo('chat.postMessage')).toEqual([expect.objectContaining({ channel: admin_channel, text: '<@U0MAYA001> synced with the vendor: expected 4,000, reported 3,000: 1,000 unaccounted.' })]);
    // 50 credits is below the flag's 100: recorded, not flagged.
    await h.slack.command('U0MAYA001', 'sync 2950');
    expect(responses[1]!.text).toBe('Recorded 50 credits of usage: creditdesk expected 3,000 left, the vendor shows 2,950.');
    await h.slack.command('U0MAYA001', 'sync 2950');
    expect(responses[2]!.text).toBe('Your balance matches: 2,950 credits left.');
    expect(callsTo('chat.postMessage')).toHaveLength(1);
    expect((await h.ledger.balance('U0MAYA001')).remaining).toBe(2950);
  });

  it('walks a request from the modal to the admin channel, an approval, the DM and the updated message', async () => {
    // The trigger_id expires in 3 s, so the modal is opened before any other call to Slack
    // (such as looking up the time zone of a member seen for the first time).
    await h.slack.command('U0FRESH01', 'request', { triggerId: 'trig-request' });
    expect(calls.map((c) => c.method)).toEqual(['views.open']);
    // Slack's retry carries the spent trigger: nothing opens twice, and no error is shown.
    await h.slack.command('U0FRESH01', 'request', { triggerId: 'trig-request', headers: slack_retry });
    expect(calls.map((c) => c.method)).toEqual(['views.open']);
    expect(responses).toHaveLength(0);
    reset();
    await h.slack.command('U0MAYA001', 'request 500 client pitch deck');
    const [open] = callsTo('views.open');
    expect(open!.view.callback_id).toBe(views.request);
    expect(open!.view.blocks[0].element.initial_value).toBe('500');
    expect(open!.view.blocks[1].element.initial_value).toBe('client pitch deck');

    await h.slack.submit('U0MAYA001', views.request, {
      [blocks.amount]: { [inputs.amount]: { value: '500' } },
      [blocks.reason]: { [inputs.reason]: { value: 'client pitch deck' } },
    });
    const [posted, confirmation] = callsTo('chat.postMessage');
    expect(posted!.channel).toBe(admin_channel);
    expect(text(posted!)).toContain('<@U0MAYA001> asks for *500 credits*: client pitch deck');
    const [approve, deny] = posted!.blocks[1].elements;
    expect([approve.action_id, deny.action_id]).toEqual([actions.approve, actions.deny]);
    expect(confirmation!.channel).toBe('U0MAYA001');

    // Slack retrying the submission, or the member sending it twice, files nothing more.
    await h.slack.submit('U0MAYA001', views.request, {
      [blocks.amount]: { [inputs.amount]: { value: '500' } },
      [blocks.reason]: { [inputs.reason]: { value: 'client pitch deck' } },
    }, '', { headers: slack_retry });
    expect(callsTo('chat.postMessage').filter((m) => m.channel === admin_channel)).toHaveLength(1);
    expect(callsTo('chat.postMessage').at(-1)!.text).toBe('Your request for 500 credits is already with the admins; you will hear here when one decides.');
    expect(await h.db.query(`select id from credit_requests`)).toHaveLength(1);

    await h.slack.click('U0ADMIN01', actions.approve, approve.value);
    // The trigger_id lives 3 s: a loading modal opens first, then fills in once the request is read.
    expect(callsTo('views.open').at(-1)!.view.blocks[0].text.text).toBe(':hourglass_flowing_sand: Loading…');
    const approveModal = filledModal();
    expect(approveModal).toMatchObject({ view_id: 'V0TEST', view: { callback_id: views.approve } });
    const values = { [blocks.amount]: { [inputs.amount]: { value: '500' } } };
    const done = await h.slack.submit('U0ADMIN01', views.approve, values, approveModal.view.private_metadata);
    expect(done.body).toBeNull();
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4500);
    const update = callsTo('chat.update').at(-1)!;
    expect(text(update)).toContain(':white_check_mark: Approved by <@U0ADMIN01>');
    // The requester's DM was queued with the decision; the dispatcher sends it.
    expect(await dispatch()).toMatchObject({ sent: 1 });
    const dm = callsTo('chat.postMessage').at(-1)!;
    expect(dm).toMatchObject({ channel: 'U0MAYA001', text: 'Your request for 500 credits was approved by <@U0ADMIN01>: 500 credits' });

    // A double click, Slack retrying the submission, or a second admin: already decided, nothing changes.
    const again = await h.slack.submit('U0ADMIN01', views.approve, values, approveModal.view.private_metadata);
    expect(again.body).toEqual({ response_action: 'errors', errors: { [blocks.amount]: 'This request was already approved by you; nothing was changed.' } });
    await h.db.query(`insert into members (slack_id, is_admin) values ('U0ADMIN02', true)`);
    const retried = await h.slack.submit('U0ADMIN02', views.approve, values, approveModal.view.private_metadata, { headers: slack_retry });
    expect(retried.body.errors).toEqual({ [blocks.amount]: 'This request was already approved by another admin; nothing was changed.' });
    await h.slack.click('U0ADMIN02', actions.approve, approve.value);
    expect(filledModal().view.callback_id).toBeUndefined();
    expect(text(filledModal().view)).toBe('That request was already approved by <@U0ADMIN01>.');
    await h.slack.click('U0ADMIN01', actions.deny, approve.value);
    expect(responses.at(-1)!.text).toBe('That request was already approved by <@U0ADMIN01>.');
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4500);
    expect(callsTo('chat.update')).toHaveLength(1);
    expect(await dispatch()).toMatchObject({ claimed: 0 });
    expect(dmsTo('U0MAYA001').filter((t) => t.includes('was approved'))).toHaveLength(1);
  });

  it('keeps an approval that Slack could not be told about, so a second click cannot grant again', async () => {
    await h.slack.submit('U0MAYA001', views.request, { [blocks.amount]: { [inputs.amount]: { value: '500' } } });
    const [posted] = callsTo('chat.postMessage');
    await h.slack.click('U0ADMIN01', actions.approve, posted!.blocks[1].elements[0].value);
    const modal = filledModal();
    answers.set('chat.update', () => new HttpResponse('upstream error', { status: 500 }));
    const values = { [blocks.amount]: { [inputs.amount]: { value: '500' } } };
    expect((await h.slack.submit('U0ADMIN01', views.approve, values, modal.view.private_metadata)).body).toBeNull();
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4500);
    const [request] = await h.db.query<{ status: string }>(`select status from credit_requests`);
    expect(request!.status).toBe('approved');
    answers.clear();
    const again = await h.slack.submit('U0ADMIN01', views.approve, values, modal.view.private_metadata);
    expect(again.body.response_action).toBe('errors');
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4500);
  });

  it('puts a request modal error on the field at fault', async () => {
    const zero = await h.slack.submit('U0MAYA001', views.request, { [blocks.amount]: { [inputs.amount]: { value: '0' } } });
    expect(zero.body).toEqual({ response_action: 'errors', errors: { [blocks.amount]: 'Enter more than 0' } });
    const long = await h.slack.submit('U0MAYA001', views.request, {
      [blocks.amount]: { [inputs.amount]: { value: '10' } },
      [blocks.reason]: { [inputs.reason]: { value: 'x'.repeat(5_000) } },
    });
    expect(Object.keys(long.body.errors)).toEqual([blocks.reason]);
    expect(await h.db.query(`select id from credit_requests`)).toHaveLength(0);
  });

  it('approves a request with a free pack, and denies another with a DM', async () => {
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    for (const amount of ['2000', '300']) {
      await h.slack.submit('U0MAYA001', views.request, { [blocks.amount]: { [inputs.amount]: { value: amount } } });
    }
    const [first, , second] = callsTo('chat.postMessage');
    await h.slack.click('U0ADMIN01', actions.approve, first!.blocks[1].elements[0].value);
    const modal = filledModal();
    expect(modal.view.blocks[1].element.options).toEqual([{ text: { type: 'plain_text', text: 'Add-on 2,000 (2,000 credits, 1 free)' }, value: 'addon' }]);
    const neither = await h.slack.submit('U0ADMIN01', views.approve, {}, modal.view.private_metadata);
    expect(neither.body).toEqual({ response_action: 'errors', errors: { [blocks.amount]: 'Pick a free pack above, or enter how many credits to grant' } });
    await h.slack.submit('U0ADMIN01', views.approve, { [blocks.pack]: { [inputs.pack]: { selected_option: { value: 'addon' } } } }, modal.view.private_metadata);
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(6000);
    await h.slack.click('U0ADMIN01', actions.deny, second!.blocks[1].elements[1].value);
    expect(text(callsTo('chat.update').at(-1)!)).toContain(':x: Denied by <@U0ADMIN01>');
    // Both outcomes wait in the outbox and go out in the order they were decided, one a second.
    await dispatch();
    clock.advance(1_200);
    await dispatch();
    expect(dmsTo('U0MAYA001').slice(-2)).toEqual([
      'Your request for 2,000 credits was approved by <@U0ADMIN01>: 2,000 credits with a pack (Add-on 2,000)',
      'Your request for 300 credits was declined by <@U0ADMIN01>.',
    ]);
  });

  it('leaves a request pending, with nothing written and no DM queued, when its grant fails', async () => {
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    await h.ledger.putSeat('U0LENA001', { plan: 'pro' });
    await h.slack.submit('U0MAYA001', views.request, { [blocks.amount]: { [inputs.amount]: { value: '2000' } } });
    const [posted] = callsTo('chat.postMessage');
    await h.slack.click('U0ADMIN01', actions.approve, posted!.blocks[1].elements[0].value);
    const modal = filledModal();
    // While the modal is open, the last free pack goes to someone else.
    await h.ledger.assignPack({ product: 'addon', user: 'U0LENA001' });
    const count = async (table: string) => (await h.db.query<{ n: number }>(`select count(*)::int4 as n from ${table}`))[0]!.n;
    const before = { journal: await count('journal'), tasks: await count('vendor_tasks') };
    const dms = dmsTo('U0MAYA001').length;

    const failed = await h.slack.submit('U0ADMIN01', views.approve, { [blocks.pack]: { [inputs.pack]: { selected_option: { value: 'addon' } } } }, modal.view.private_metadata);
    expect(failed.body).toEqual({
      response_action: 'errors',
      errors: { [blocks.pack]: 'Not approved: no free Add-on 2,000 pack: the only one is assigned; record a purchase or unassign one first' },
    });
    expect(await h.db.query(`select status, decided_by as "decidedBy" from credit_requests`)).toEqual([{ status: 'pending', decidedBy: null }]);
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4000);
    expect({ journal: await count('journal'), tasks: await count('vendor_tasks') }).toEqual(before);
    expect(await count('outbox')).toBe(0);
    expect(callsTo('chat.update')).toHaveLength(0);
    expect(await dispatch()).toMatchObject({ claimed: 0 });
    expect(dmsTo('U0MAYA001')).toHaveLength(dms);

    // Still pending, so the same modal can grant an amount instead.
    const granted = await h.slack.submit('U0ADMIN01', views.approve, { [blocks.amount]: { [inputs.amount]: { value: '2000' } } }, modal.view.private_metadata);
    expect(granted.body).toBeNull();
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(6000);
  });

  it("tells the requester the outcome once Slack is back, when Slack was down at the decision", async () => {
    await h.slack.submit('U0MAYA001', views.request, { [blocks.amount]: { [inputs.amount]: { value: '500' } } });
    const [posted] = callsTo('chat.postMessage');
    await h.slack.click('U0ADMIN01', actions.approve, posted!.blocks[1].elements[0].value);
    const modal = filledModal();
    answers.set('chat.postMessage', () => new HttpResponse('upstream error', { status: 500 }));
    answers.set('chat.update', () => new HttpResponse('upstream error', { status: 500 }));

    const values = { [blocks.amount]: { [inputs.amount]: { value: '500' } } };
    expect((await h.slack.submit('U0ADMIN01', views.approve, values, modal.view.private_metadata)).body).toBeNull();
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4500);
    expect(await h.db.query(`select status from credit_requests`)).toEqual([{ status: 'approved' }]);
    // The dispatcher's try fails too: the DM stays queued, to be tried again after a back-off.
    expect(await dispatch()).toMatchObject({ claimed: 1, sent: 0, retried: 1 });
    expect(await h.db.query(`select sent_at as "sentAt", last_error as "lastError" from outbox`)).toEqual([{ sentAt: null, lastError: 'Slack answered HTTP 500' }]);

    answers.clear();
    const sentBefore = calls.length;
    clock.advance(60_000);
    expect(await dispatch()).toMatchObject({ sent: 1 });
    clock.advance(60_000);
    expect(await dispatch()).toMatchObject({ claimed: 0 });
    expect(calls.slice(sentBefore).filter((c) => c.method === 'chat.postMessage').map((c) => c.args)).toEqual([
      expect.objectContaining({ channel: 'U0MAYA001', text: 'Your request for 500 credits was approved by <@U0ADMIN01>: 500 credits' }),
    ]);
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4500);
  });

  it('refuses admin actions to a member who is not an admin, and changes nothing', async () => {
    await h.slack.command('U0MAYA001', '<@U0ADMIN01>');
    await h.slack.command('U0MAYA001', 'report');
    expect(responses.map((r) => r.text)).toEqual([
      'Only creditdesk admins can do that. Ask an admin if you need it done; nothing was changed.',
      'Only creditdesk admins can do that. Ask an admin if you need it done; nothing was changed.',
    ]);
    const forged = await h.slack.submit('U0MAYA001', views.adminAdjust, {
      [blocks.user]: { [inputs.user]: { selected_user: 'U0MAYA001' } },
      [blocks.amount]: { [inputs.amount]: { value: '100000' } },
      [blocks.reason]: { [inputs.reason]: { value: 'because' } },
    });
    expect(forged.body).toMatchObject({ response_action: 'update', view: { title: { text: 'Not allowed' } } });
    expect(text(forged.body.view)).toBe('Only creditdesk admins can do that. Ask an admin if you need it done; nothing was changed.');
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4000);
    // A form without a member field is refused just as politely.
    const catalog = await h.slack.submit('U0MAYA001', views.adminCatalog, {
      [blocks.kind]: { [inputs.kind]: { selected_option: { value: 'plan' } } },
      [blocks.key]: { [inputs.key]: { value: 'pro' } },
      [blocks.name]: { [inputs.name]: { value: 'Pro' } },
      [blocks.amount]: { [inputs.amount]: { value: '1' } },
    });
    expect(catalog.body.response_action).toBe('update');
    expect((await h.ledger.catalog()).plans).toEqual([expect.objectContaining({ key: 'pro', credits: 4000 })]);
    // The approve button and /credits admin open a loading modal at once; it fills in with the refusal.
    await h.slack.click('U0MAYA001', actions.approve, '1');
    expect(filledModal().view).toMatchObject({ title: { text: 'Not allowed' } });
    expect(text(filledModal().view)).toMatch(/^Only creditdesk admins can do that/);
    await h.slack.command('U0MAYA001', 'admin');
    expect(filledModal().view).toMatchObject({ title: { text: 'Not allowed' } });
    expect(callsTo('views.update').map((u) => u.view.callback_id)).toEqual([undefined, undefined]);
  });

  it('lets an admin add a seat, see another member, adjust with a reason, and revoke after a preview', async () => {
    await h.slack.command('U0ADMIN01', 'admin');
    expect(callsTo('views.open').at(-1)!.view.title.text).toBe('creditdesk admin');
    expect(filledModal()).toMatchObject({ view_id: 'V0TEST', view: { title: { text: 'creditdesk admin' } } });
    expect(filledModal().view.blocks[1].elements.map((e: any) => e.value)).toEqual(['seat', 'revoke', 'assign', 'adjust']);
    await h.slack.submit('U0ADMIN01', views.adminSeat, { [blocks.user]: { [inputs.user]: { selected_user: 'U0LENA001' } }, [blocks.plan]: { [inputs.plan]: { value: 'pro' } } });
    expect((await h.ledger.balance('U0LENA001')).quota).toBe(4000);
    const badPlan = await h.slack.submit('U0ADMIN01', views.adminSeat, { [blocks.user]: { [inputs.user]: { selected_user: 'U0LENA002' } }, [blocks.plan]: { [inputs.plan]: { value: 'gold' } } });
    expect(badPlan.body).toEqual({ response_action: 'errors', errors: { [blocks.plan]: 'plan gold is not in the catalog: create it under /credits admin → Plans, packs, profiles' } });

    const noReason = await h.slack.submit('U0ADMIN01', views.adminAdjust, {
      [blocks.user]: { [inputs.user]: { selected_user: 'U0LENA001' } },
      [blocks.amount]: { [inputs.amount]: { value: '-300' } },
      [blocks.reason]: { [inputs.reason]: { value: ' ' } },
    });
    expect(noReason.body.errors).toEqual({ [blocks.reason]: 'Say why, in a few words' });
    await h.slack.submit('U0ADMIN01', views.adminAdjust, {
      [blocks.user]: { [inputs.user]: { selected_user: 'U0LENA001' } },
      [blocks.amount]: { [inputs.amount]: { value: '-300' } },
      [blocks.reason]: { [inputs.reason]: { value: 'duplicate grant' } },
    });
    await h.slack.command('U0ADMIN01', '<@U0LENA001|lena>');
    expect(responses.at(-1)!.text).toBe("<@U0LENA001>'s AI credits: 3,700 of 3,700 left, resets on 1 Jun 2026");

    const preview = await h.slack.submit('U0ADMIN01', views.adminRevoke, { [blocks.user]: { [inputs.user]: { selected_user: 'U0LENA001' } } });
    expect(preview.body.response_action).toBe('update');
    expect(text(preview.body.view)).toContain("Revoking <@U0LENA001>'s seat forfeits *3,700* unused plan and manual credits");
    expect((await h.ledger.balance('U0LENA001')).status).toBe('active');
    await h.slack.submit('U0ADMIN01', views.adminRevoke, {}, preview.body.view.private_metadata);
    expect((await h.ledger.balance('U0LENA001')).status).toBe('revoked');
  });

  it('lets an admin record a purchase, manage the catalog, unassign a pack and promote another admin', async () => {
    const purchase = await h.slack.submit('U0ADMIN01', views.adminPurchase, {
      [blocks.key]: { [inputs.key]: { value: 'addon' } },
      [blocks.quantity]: { [inputs.quantity]: { value: '2' } },
      [blocks.reference]: { [inputs.reference]: { value: 'PO-77' } },
    });
    expect(purchase.body).toBeNull();
    const unknown = await h.slack.submit('U0ADMIN01', views.adminPurchase, { [blocks.key]: { [inputs.key]: { value: 'gold' } }, [blocks.quantity]: { [inputs.quantity]: { value: '1' } } });
    expect(unknown.body.errors[blocks.key]).toMatch(/pack product gold is not in the catalog/);

    await h.slack.submit('U0ADMIN01', views.adminCatalog, {
      [blocks.kind]: { [inputs.kind]: { selected_option: { value: 'profile' } } },
      [blocks.key]: { [inputs.key]: { value: 'design' } },
      [blocks.name]: { [inputs.name]: { value: 'Design team' } },
      [blocks.amount]: { [inputs.amount]: { value: '10000' } },
    });
    expect((await h.ledger.catalog()).profiles).toEqual([expect.objectContaining({ key: 'design', name: 'Design team', poolCredits: 10000 })]);

    // Pack products from the same form: one-time ones need their lifetime, on that field.
    const catalog = (kind: string, extra: Record<string, Record<string, unknown>> = {}) =>
      h.slack.submit('U0ADMIN01', views.adminCatalog, {
        [blocks.kind]: { [inputs.kind]: { selected_option: { value: kind } } },
        [blocks.key]: { [inputs.key]: { value: 'boost' } },
        [blocks.name]: { [inputs.name]: { value: 'Boost 1,000' } },
        [blocks.amount]: { [inputs.amount]: { value: '1000' } },
        ...extra,
      });
    expect((await catalog('one_time')).body).toEqual({ response_action: 'errors', errors: { [blocks.expires]: 'A one-time pack needs the days its credits last' } });
    const full = { [blocks.reassign]: { [inputs.reassign]: { selected_option: { value: 'full' } } } };
    expect((await catalog('one_time', { ...full, [blocks.expires]: { [inputs.expires]: { value: '30' } } })).body).toBeNull();
    expect(callsTo('chat.postMessage').at(-1)!.text).toBe(
      "Saved one-time pack product boost, lasting 30 days, reassigned with a fresh grant (Boost 1,000, 1,000 credits). Changes to credits apply from each holder's next cycle.",
    );
    expect((await h.ledger.catalog()).products.find((p) => p.key === 'boost')).toMatchObject({ kind: 'one_time', expiresDays: 30, reassign: 'full', credits: 1000 });
    // Saving from Slack keeps what the form does not show, such as a member's pool cap set through the API.
    await h.ledger.putProfile('design', { name: 'Design team', poolCredits: 10000, memberPoolCap: 500 });
    await h.slack.submit('U0ADMIN01', views.adminCatalog, {
      [blocks.kind]: { [inputs.kind]: { selected_option: { value: 'profile' } } },
      [blocks.key]: { [inputs.key]: { value: 'design' } },
      [blocks.name]: { [inputs.name]: { value: 'Design' } },
      [blocks.amount]: { [inputs.amount]: { value: '12000' } },
    });
    expect((await h.ledger.catalog()).profiles).toEqual([expect.objectContaining({ key: 'design', name: 'Design', poolCredits: 12000, memberPoolCap: 500 })]);

    await h.ledger.assignPack({ product: 'addon', user: 'U0MAYA001' });
    await h.slack.submit('U0ADMIN01', views.adminUnassign, { [blocks.key]: { [inputs.key]: { value: '1' } } });
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4000);

    await h.slack.command('U0MAYA001', 'report');
    expect(responses.at(-1)!.text).toMatch(/Only creditdesk admins/);
    await h.slack.submit('U0ADMIN01', views.adminPromote, { [blocks.user]: { [inputs.user]: { selected_user: 'U0MAYA001' } } });
    await h.slack.command('U0MAYA001', 'report');
    expect(responses.at(-1)!.text).toBe('Cycle 2026-05: 0 of 4,000 credits used. The CSV and the chart are in your DM with creditdesk.');
  });

  it('reports a cycle to an admin: the summary with breakage and advice, and the CSV and chart in their DM', async () => {
    await h.ledger.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1, unitCost: '120.00' });
    await h.ledger.putSeat('U0LENA001', { plan: 'pro' });
    await h.ledger.assignPack({ product: 'addon', user: 'U0LENA001' });
    await h.ledger.recordUsage({ id: 'lena', user: 'U0LENA001', credits: 180 });
    await h.ledger.recordUsage({ id: 'maya', user: 'U0MAYA001', credits: 4500 });
    await h.slack.command('U0ADMIN01', 'report 2026-05');
    const shown = text(responses.at(-1)!);
    expect(shown).toContain('*Cycle 2026-05*: 2 seats · 4,680 of 10,000 used (47 %)');
    expect(shown).toContain('*By profile*\n• no profile: 4,680 of 10,000 used (47 %), 500 over');
    expect(shown).toContain('• move a 2,000 pack (Add-on 2,000) from <@U0LENA001>, 3 % used, to <@U0MAYA001>, out on day 10');
    expect(callsTo('conversations.open')).toEqual([expect.objectContaining({ users: 'U0ADMIN01' })]);
    const [complete] = callsTo('files.completeUploadExternal');
    expect(complete!.channel_id).toBe('DU0ADMIN01');
    const [csv, png] = uploads;
    expect(csv!.bytes.toString()).toContain('user,email,plan,profile,cycle_start,quota,used,remaining,pool_used,overage,expired,forfeited,pct_used\nU0MAYA001,,pro,,2026-05-01T00:00:00.000Z,4000,4500,0,0,500,0,0,112.5\n');
    expect(png!.bytes.includes(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  });

  it('publishes the App Home: the balance for a member, the org view and vendor tasks for an admin', async () => {
    await h.ledger.recordPurchase({ product: 'addon', quantity: 2 });
    await h.ledger.assignPack({ product: 'addon', user: 'U0MAYA001' });
    await h.slack.event({ type: 'app_home_opened', user: 'U0MAYA001', tab: 'home', channel: 'D0MAYA' });
    const member = callsTo('views.publish').at(-1)!;
    expect(member.user_id).toBe('U0MAYA001');
    expect(text(member.view)).toContain('*6,000* of 6,000 left');
    expect(text(member.view)).not.toContain('Vendor console tasks');

    await h.slack.event({ type: 'app_home_opened', user: 'U0ADMIN01', tab: 'home', channel: 'D0ADMIN' });
    const admin = callsTo('views.publish').at(-1)!;
    expect(text(admin.view)).toContain('You have no seat in creditdesk yet');
    // The pack's number is what the Unassign form asks for.
    expect(text(admin.view)).toContain('*Packs*\n• addon: 1 free, 1 assigned (#1 <@U0MAYA001>)');
    expect(text(admin.view)).toContain('*Vendor console tasks* (2 open)');
    const [seatTask, packTask] = admin.view.blocks.filter((b: any) => b.accessory?.action_id === actions.taskDone);
    expect(seatTask.text.text).toBe('Assign a Pro license to <@U0MAYA001> in the vendor console');
    expect(packTask.text.text).toMatch(/<@U0MAYA001>/);

    // A member who is not an admin cannot close a task, even with a forged click.
    await h.slack.click('U0MAYA001', actions.taskDone, seatTask.accessory.value);
    expect(callsTo('chat.postMessage').at(-1)).toMatchObject({ channel: 'U0MAYA001', text: expect.stringMatching(/^Only creditdesk admins can do that/) });
    expect(await h.ledger.openVendorTasks()).toHaveLength(2);

    await h.slack.click('U0ADMIN01', actions.taskDone, seatTask.accessory.value);
    expect(await h.ledger.openVendorTasks()).toHaveLength(1);
    const after = callsTo('views.publish').at(-1)!;
    expect(after.user_id).toBe('U0ADMIN01');
    expect(text(after.view)).toContain('*Vendor console tasks* (1 open)');
    expect(text(after.view)).not.toContain('Assign a Pro license to <@U0MAYA001>');
  });

  it('keeps the h.ledger write when Slack keeps failing, retries a bounded number of times, and shows the member no stack trace', async () => {
    answers.set('chat.postMessage', () => new HttpResponse('upstream error', { status: 500 }));
    const res = await h.slack.submit('U0MAYA001', views.request, { [blocks.amount]: { [inputs.amount]: { value: '700' } } });
    expect(res.status).toBe(200);
    expect(res.body).toBeNull();
    const [request] = await h.db.query<{ credits: number; status: string }>(`select credits, status from credit_requests`);
    expect(request).toEqual({ credits: 700, status: 'pending' });
    // The first try and two retries, then it gives up rather than waiting half an hour, and
    // tries to tell the member (here Slack refuses that too).
    expect(callsTo('chat.postMessage').filter((m) => m.channel === admin_channel)).toHaveLength(3);
    expect(callsTo('chat.postMessage').at(-1)).toMatchObject({ channel: 'U0MAYA001', text: expect.stringMatching(/^Slack did not pass your request for 700 credits to the admins just now/) });

    // Sent again once Slack is back, the same request reaches the admins, still filed once.
    answers.clear();
    await h.slack.submit('U0MAYA001', views.request, { [blocks.amount]: { [inputs.amount]: { value: '700' } } });
    expect(callsTo('chat.postMessage').filter((m) => m.channel === admin_channel)).toHaveLength(4);
    expect(await h.db.query(`select id from credit_requests`)).toHaveLength(1);
  });

  it('retries a call Slack rate-limits after its Retry-After, and one that failed with a 500, until it goes through', async () => {
    let views_open = 0;
    answers.set('views.open', () => (++views_open === 1 ? new HttpResponse(null, { status: 429, headers: { 'retry-after': '0' } }) : HttpResponse.json({ ok: true, view: { id: 'V0TEST' } })));
    expect((await h.slack.click('U0MAYA001', actions.requestOpen)).status).toBe(200);
    expect(callsTo('views.open')).toHaveLength(2);
    expect(callsTo('views.open')[1]!.view.callback_id).toBe(views.request);

    let posts = 0;
    answers.set('chat.postMessage', () =>
      ++posts === 1 ? new HttpResponse('upstream error', { status: 500 }) : HttpResponse.json({ ok: true, channel: admin_channel, ts: '17000000.9' }),
    );
    await h.slack.submit('U0MAYA001', views.request, { [blocks.amount]: { [inputs.amount]: { value: '700' } } });
    const [request] = await h.db.query<{ messageTs: string }>(`select message_ts as "messageTs" from credit_requests`);
    // The second try reached the admin channel, and the request remembers its message for the decision.
    expect(request!.messageTs).toBe('17000000.9');
  });
});
