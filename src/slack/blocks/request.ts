// The request flow: the member's modal, the admin channel's message, the approve modal. The
// requester's outcome DM goes through the outbox (jobs/messages.ts).
import type { CreditRequest } from '../../ledger/index.ts';
import { actions, blocks as blockIds, inputs, views } from '../ids.ts';
import { credits } from '../format.ts';
import { actionsRow, button, context, plain, section, type Block, type Message } from './common.ts';

export function requestModal(prefill: { amount: number | null; reason: string | null }) {
  return {
    type: 'modal' as const,
    callback_id: views.request,
    title: plain('Request credits'),
    submit: plain('Send request'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input', block_id: blockIds.amount, label: plain('How many credits?'),
        element: { type: 'number_input', is_decimal_allowed: false, min_value: '1', action_id: inputs.amount, ...(prefill.amount ? { initial_value: String(prefill.amount) } : {}) },
      },
      {
        type: 'input', block_id: blockIds.reason, label: plain('What for?'), optional: true,
        element: { type: 'plain_text_input', multiline: true, max_length: 500, action_id: inputs.reason, ...(prefill.reason ? { initial_value: prefill.reason } : {}) },
      },
    ],
  };
}

export function requestChannelMessage(request: CreditRequest): Message {
  const head = `<@${request.slackId}> asks for *${credits(request.credits)} credits*${request.reason ? `: ${request.reason}` : '.'}`;
  const blocks: Block[] = [section(head)];
  if (request.status === 'pending') {
    blocks.push(actionsRow(button('Approve', actions.approve, String(request.id), 'primary'), button('Deny', actions.deny, String(request.id), 'danger')));
  } else {
    blocks.push(context(`${request.status === 'approved' ? ':white_check_mark: Approved' : ':x: Denied'} by <@${request.decidedBy}>`));
  }
  return { text: `Credit request from <@${request.slackId}>: ${credits(request.credits)} credits (${request.status})`, blocks };
}

export function approveModal(request: CreditRequest, products: readonly { key: string; name: string; credits: number; free: number }[]) {
  const options = products
    .filter((p) => p.free > 0)
    .map((p) => ({ text: plain(`${p.name} (${credits(p.credits)} credits, ${p.free} free)`), value: p.key }));
  return {
    type: 'modal' as const,
    callback_id: views.approve,
    private_metadata: JSON.stringify({ requestId: request.id }),
    title: plain('Approve request'),
    submit: plain('Approve'),
    close: plain('Cancel'),
    blocks: [
      section(`<@${request.slackId}> asked for *${credits(request.credits)} credits*. Assign a free pack, or grant an amount.`),
      ...(options.length > 0
        ? [{ type: 'input', block_id: blockIds.pack, optional: true, label: plain('Assign a free pack'), element: { type: 'static_select', action_id: inputs.pack, options } }]
        : [context('No free packs in inventory: grant an amount instead.')]),
      {
        type: 'input', block_id: blockIds.amount, optional: true, label: plain('Or grant this many credits'),
        element: { type: 'number_input', is_decimal_allowed: false, min_value: '1', action_id: inputs.amount, initial_value: String(request.credits) },
      },
    ],
  };
}
