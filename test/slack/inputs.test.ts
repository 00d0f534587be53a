// What people type into Slack is refused with a clear reply or a field error when creditdesk cannot
// store it, before anything is written; and a signed request stamped outside Slack's five-minute
// window is refused whichever way it lies.
import { beforeEach, describe, expect, it } from 'vitest';
import { blocks, inputs, views } from '../../src/slack/ids.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { admin_channel, callsTo, responses, useSlackApp } from './helpers.ts';

const nul_refused = 'must not contain a NUL character (U+0000): remove it';
const surrogate_refused = 'must not contain a lone surrogate (U+D800): send valid Unicode text, where surrogates come in pairs';
const minute_ms = 60_000;

describeEachDatabase('what people send from Slack on %s', (kind) => {
  const h = useSlackApp(kind, '2026-05-10T12:00:00Z');
  const replyText = () => responses.at(-1)!.blocks.map((b: any) => b.text?.text ?? '').join('\n') as string;

  beforeEach(async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
  });

  it('refuses a signed request stamped more than five minutes ahead, as it refuses one five minutes old', async () => {
    const hourAhead = await h.slack.command('U0MAYA001', 'log 100', { signedAt: new Date(Date.now() + 60 * minute_ms) });
    expect(hourAhead.status).toBe(401);
    const sixAhead = await h.slack.command('U0MAYA001', 'log 100', { signedAt: new Date(Date.now() + 6 * minute_ms) });
    expect(sixAhead.status).toBe(401);
    expect(responses).toHaveLength(0);
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(0);
    // A clock four minutes fast is still inside the window.
    expect((await h.slack.command('U0MAYA001', 'log 100', { signedAt: new Date(Date.now() + 4 * minute_ms) })).status).toBe(200);
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(100);
  });

  it('answers /credits text holding a NUL, or a feature past the length limit, with what to fix, recording nothing', async () => {
    await h.slack.command('U0MAYA001', 'log 250 image\u0000generation');
    expect(replyText()).toContain(`:warning: the command ${nul_refused}`);
    await h.slack.command('U0MAYA001', `log 250 ${'x'.repeat(501)}`);
    expect(replyText()).toContain(':warning: the feature is longer than 500 characters; say it in fewer words');
    await h.slack.command('U0MAYA001', `request 500 ${'why '.repeat(130)}`);
    expect(replyText()).toContain(':warning: the reason is longer than 500 characters; say it in fewer words');
    expect(callsTo('views.open')).toHaveLength(0);
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(0);
  });

  it('names a request reason holding a NUL or a lone surrogate on its field, and files nothing', async () => {
    for (const [reason, refusal] of [['pitch\u0000deck', nul_refused], ['pitch\ud800deck', surrogate_refused]]) {
      const res = await h.slack.submit('U0MAYA001', views.request, {
        [blocks.amount]: { [inputs.amount]: { value: '500' } },
        [blocks.reason]: { [inputs.reason]: { value: reason } },
      });
      expect(res.body).toEqual({ response_action: 'errors', errors: { [blocks.reason]: refusal } });
    }
    expect(await h.db.query(`select id from credit_requests`)).toHaveLength(0);
    expect(callsTo('chat.postMessage').filter((m) => m.channel === admin_channel)).toHaveLength(0);
  });

  it("names the field at fault in an admin form: an adjustment's reason, a catalog name, a purchase reference", async () => {
    const adjust = await h.slack.submit('U0ADMIN01', views.adminAdjust, {
      [blocks.user]: { [inputs.user]: { selected_user: 'U0MAYA001' } },
      [blocks.amount]: { [inputs.amount]: { value: '300' } },
      [blocks.reason]: { [inputs.reason]: { value: 'launch\u0000week' } },
    });
    expect(adjust.body).toEqual({ response_action: 'errors', errors: { [blocks.reason]: nul_refused } });
    const catalog = await h.slack.submit('U0ADMIN01', views.adminCatalog, {
      [blocks.kind]: { [inputs.kind]: { selected_option: { value: 'plan' } } },
      [blocks.key]: { [inputs.key]: { value: 'lite' } },
      [blocks.name]: { [inputs.name]: { value: 'Lite\ud800' } },
      [blocks.amount]: { [inputs.amount]: { value: '1000' } },
    });
    expect(catalog.body).toEqual({ response_action: 'errors', errors: { [blocks.name]: surrogate_refused } });
    const purchase = await h.slack.submit('U0ADMIN01', views.adminPurchase, {
      [blocks.key]: { [inputs.key]: { value: 'addon' } },
      [blocks.quantity]: { [inputs.quantity]: { value: '2' } },
      [blocks.reference]: { [inputs.reference]: { value: 'PO\u000077' } },
    });
    expect(purchase.body).toEqual({ response_action: 'errors', errors: { [blocks.reference]: nul_refused } });
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4000);
    expect((await h.ledger.catalog()).plans.map((p) => p.key)).toEqual(['pro']);
    expect(await h.db.query(`select id from purchases`)).toHaveLength(0);
  });

  it('refuses a pack number larger than any pack can have, on its field', async () => {
    const res = await h.slack.submit('U0ADMIN01', views.adminUnassign, { [blocks.key]: { [inputs.key]: { value: '1000000000000' } } });
    expect(res.body).toEqual({ response_action: 'errors', errors: { [blocks.key]: 'There is no pack with that number' } });
    const none = await h.slack.submit('U0ADMIN01', views.adminUnassign, { [blocks.key]: { [inputs.key]: { value: '2147483647' } } });
    expect(none.body).toEqual({ response_action: 'errors', errors: { [blocks.key]: 'no pack 2147483647' } });
  });
});
