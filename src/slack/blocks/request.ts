// The request flow: the member's modal, the admin channel's message, the approve modal. The
// requester's outcome DM goes through the outbox (jobs/messages.ts). The reason is the member's
// own text: plain in the modal, escaped wherever it is mrkdwn.
import type { CreditRequest } from '../../ledger/index.ts';
import { text_length_max } from '../../ledger/limits.ts';
import { actions, blocks as blockIds, inputs, views } from '../ids.ts';
import { credits, escapeMrkdwn } from '../format.ts';
import { actionsRow, button, context, modalText, option, plain, section, type Block, type Message, type ModalView } from './common.ts';
import { menu_options_max, section_text_chars_max, slackLength, truncate } from './limits.ts';

export function requestModal(prefill: { amount: number | null; reason: string | null }): ModalView {
  return {
    type: 'modal',
    callback_id: views.request,
    title: modalText('Request credits'),
    submit: modalText('Send request'),
    close: modalText('Cancel'),
    blocks: [
      {
        type: 'input', block_id: blockIds.amount, label: plain('How many credits?'),
        element: { type: 'number_input', is_decimal_allowed: false, min_value: '1', action_id: inputs.amount, ...(prefill.amount ? { initial_value: String(prefill.amount) } : {}) },
      },
      {
        type: 'input', block_id: blockIds.reason, label: plain('What for?'), optional: true,
        element: {
          type: 'plain_text_input', multiline: true, max_length: text_length_max, action_id: inputs.reason,
          // Slack refuses an initial value longer than the field's max_length.
          ...(prefill.reason ? { initial_value: truncate(prefill.reason, text_length_max) } : {}),
        },
      },
    ],
  };
}

export function requestChannelMessage(request: CreditRequest): Message {
  const asks = `<@${request.slackId}> asks for *${credits(request.credits)} credits*`;
  const reason = request.reason ? `: ${truncate(escapeMrkdwn(request.reason), section_text_chars_max - slackLength(asks) - 2)}` : '.';
  const blocks: Block[] = [section(`${asks}${reason}`)];
  if (request.status === 'pending') {
    blocks.push(actionsRow(button('Approve', actions.approve, String(request.id), 'primary'), button('Deny', actions.deny, String(request.id), 'danger')));
  } else {
    blocks.push(context(`${request.status === 'approved' ? ':white_check_mark: Approved' : ':x: Denied'} by <@${request.decidedBy}>`));
  }
  return { text: `Credit request from <@${request.slackId}>: ${credits(request.credits)} credits (${request.status})`, blocks };
}

/**
 * The admin's choice: a free pack (by product) or an amount. A menu holds 100 options: with more
 * products than that in stock, the first 100 are offered and the rest named as a count.
 */
export function approveModal(request: CreditRequest, products: readonly { key: string; name: string; credits: number; free: number }[]): ModalView {
  const stocked = products.filter((p) => p.free > 0);
  const options = stocked.slice(0, menu_options_max).map((p) => option(p.name, p.key, ` (${credits(p.credits)} credits, ${credits(p.free)} free)`));
  const unlisted = stocked.length - options.length;
  return {
    type: 'modal',
    callback_id: views.approve,
    private_metadata: JSON.stringify({ requestId: request.id }),
    title: modalText('Approve request'),
    submit: modalText('Approve'),
    close: modalText('Cancel'),
    blocks: [
      section(`<@${request.slackId}> asked for *${credits(request.credits)} credits*. Assign a free pack, or grant an amount.`),
      ...(options.length > 0
        ? [{ type: 'input' as const, block_id: blockIds.pack, optional: true, label: plain('Assign a free pack'), element: { type: 'static_select' as const, action_id: inputs.pack, options } }]
        : [context('No free packs in inventory: grant an amount instead.')]),
      ...(unlisted > 0 ? [context(`${credits(unlisted)} more pack products have free packs; \`/credits admin\` → Assign a pack takes any of them by key.`)] : []),
      {
        type: 'input', block_id: blockIds.amount, optional: true, label: plain('Or grant this many credits'),
        element: { type: 'number_input', is_decimal_allowed: false, min_value: '1', action_id: inputs.amount, initial_value: String(request.credits) },
      },
    ],
  };
}
