// Deciding a credit request is for admins, checked when the decision arrives and not only when
// the buttons are drawn: a member who submits the Approve form or clicks Deny (a forged request,
// or a message forwarded out of the admin channel) is told so, and nothing changes.
import { beforeEach, describe, expect, it } from 'vitest';
import { not_admin_text } from '../../src/slack/admins.ts';
import { actions, blocks, inputs, views } from '../../src/slack/ids.ts';
import { admin_channel, callsTo, responses, useSlackApp } from './helpers.ts';

describe('deciding a credit request', () => {
  const h = useSlackApp('pglite', '2026-05-10T12:00:00Z');
  /** Maya's pending request for 500 credits, and the private_metadata of its Approve form. */
  let request: { id: string; formMetadata: string };

  beforeEach(async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.slack.submit('U0MAYA001', views.request, { [blocks.amount]: { [inputs.amount]: { value: '500' } } });
    const posted = callsTo('chat.postMessage').find((m) => m.channel === admin_channel)!;
    const [approve, deny] = posted.blocks[1].elements;
    expect([approve.action_id, deny.action_id]).toEqual([actions.approve, actions.deny]);
    // An admin opens the Approve form (a Loading view, then the form by views.update); its
    // submission is what a member could forge.
    await h.slack.click('U0ADMIN01', actions.approve, approve.value);
    request = { id: deny.value, formMetadata: callsTo('views.update').at(-1)!.view.private_metadata };
  });

  /** What a decision would have written or sent: none of it may happen for a member. */
  const nothingDecided = async () => {
    expect(await h.ledger.request(Number(request.id))).toMatchObject({ status: 'pending', decidedBy: null });
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4000);
    expect(await h.db.query(`select kind from outbox`)).toEqual([]);
    expect(callsTo('chat.update')).toEqual([]);
  };

  it('refuses the Approve form from a member who is not an admin, on the form, and grants nothing', async () => {
    const values = { [blocks.amount]: { [inputs.amount]: { value: '500' } } };
    for (const member of ['U0MAYA001', 'U0LENA001']) {
      const submitted = await h.slack.submit(member, views.approve, values, request.formMetadata);
      expect(submitted.body).toEqual({ response_action: 'errors', errors: { [blocks.amount]: not_admin_text } });
    }
    await nothingDecided();
    // The request is still there for an admin to decide.
    expect((await h.slack.submit('U0ADMIN01', views.approve, values, request.formMetadata)).body).toBeNull();
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4500);
  });

  it('refuses the Deny button from a member who is not an admin, telling them so, and denies nothing', async () => {
    for (const member of ['U0MAYA001', 'U0LENA001']) {
      const before = responses.length;
      await h.slack.click(member, actions.deny, request.id);
      expect(responses.slice(before).map((r) => r.text)).toEqual([not_admin_text]);
    }
    await nothingDecided();
    await h.slack.click('U0ADMIN01', actions.deny, request.id);
    expect(await h.ledger.request(Number(request.id))).toMatchObject({ status: 'denied', decidedBy: 'U0ADMIN01' });
  });
});
