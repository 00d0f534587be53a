// The request flow: the member's modal, the admin channel's message, the approve modal. The
// requester's outcome DM goes through the outbox (jobs/messages.ts). The reason is the member's
// own text: plain in the modal, escaped wherever it is mrkdwn.
import type { CreditRequest } from '../../ledger/index.ts';
import { text_length_max } from '../../ledger/limits.ts';
import { actions, blocks as blockIds, inputs, views } from '../ids.ts';
import { counted, noun, unitAfter } from '../../words.ts';
import { credits, escapeMrkdwn, mrkdwnText, unitText } from '../format.ts';
import { actionsRow, button, context, modalText, option, plain, section, type Block, type Message, type ModalView } from './common.ts';
import { menu_options_max, name_chars_shown_max, section_text_chars_max, slackLength, truncate } from './limits.ts';

/** A unit inside an option's text, which holds 75 characters: the product's name gives way first, then this. */
const option_unit_chars_max = 20;

/** The tools a request may be for, when the member has a choice; the one it is for, when not. */
export type RequestTools = { choose: readonly { key: string; name: string }[]; initial?: string } | { tool: { key: string; name: string } };

/** What a request modal remembers: the tool it is for when the member had no choice. */
export const requestMetadata = (tools?: RequestTools) => (tools && 'tool' in tools ? JSON.stringify({ tool: tools.tool.key }) : '');

function toolMenu(choose: readonly { key: string; name: string }[], initial: string | undefined): Block {
  const options = choose.slice(0, menu_options_max).map((t) => option(t.name, t.key));
  const picked = options.find((o) => o.value === initial);
  return {
    type: 'input', block_id: blockIds.tool, label: plain('Which tool?'),
    element: { type: 'static_select', action_id: inputs.tool, options, ...(picked ? { initial_option: picked } : {}) },
  };
}

/**
 * The member's request modal, prefilled from the command. With several tools in the org it names
 * the tool the request is for, or asks which when the member holds seats in two or more (a menu of
 * 100 at most: a member holds one seat per tool).
 */
export function requestModal(prefill: { amount: number | null; reason: string | null }, tools?: RequestTools): ModalView {
  const toolBlocks: Block[] = !tools
    ? []
    : 'tool' in tools
      ? [context(`For *${mrkdwnText(tools.tool.name, name_chars_shown_max)}*.`)]
      : [toolMenu(tools.choose, tools.initial)];
  return {
    type: 'modal',
    callback_id: views.request,
    ...(tools && 'tool' in tools ? { private_metadata: requestMetadata(tools) } : {}),
    title: modalText('Request credits'),
    submit: modalText('Send request'),
    close: modalText('Cancel'),
    blocks: [
      ...toolBlocks,
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

/** How a request names what it asks for: the amount in the tool's unit, and the tool when there are several. */
function asked(request: CreditRequest, several: boolean): string {
  const tool = several ? ` (${mrkdwnText(request.toolName, name_chars_shown_max)})` : '';
  return `*${credits(request.credits)} ${unitText(request.credits, request.unit)}*${tool}`;
}

export function requestChannelMessage(request: CreditRequest, several = false): Message {
  const asks = `<@${request.slackId}> asks for ${asked(request, several)}`;
  const reason = request.reason ? `: ${truncate(escapeMrkdwn(request.reason), section_text_chars_max - slackLength(asks) - 2)}` : '.';
  const blocks: Block[] = [section(`${asks}${reason}`)];
  if (request.status === 'pending') {
    blocks.push(actionsRow(button('Approve', actions.approve, String(request.id), 'primary'), button('Deny', actions.deny, String(request.id), 'danger')));
  } else {
    blocks.push(context(`${request.status === 'approved' ? ':white_check_mark: Approved' : ':x: Denied'} by <@${request.decidedBy}>`));
  }
  return { text: `Credit request from <@${request.slackId}>: ${asked(request, several).replace(/\*/g, '')} (${request.status})`, blocks };
}

/**
 * The admin's choice: a free pack (by product) or an amount. `products` are the pack products of
 * the request's tool. A menu holds 100 options: with more products than that in stock, the first
 * 100 are offered and the rest named as a count.
 */
export function approveModal(
  request: CreditRequest, products: readonly { key: string; name: string; credits: number; free: number }[], several = false,
): ModalView {
  const stocked = products.filter((p) => p.free > 0);
  const options = stocked
    .slice(0, menu_options_max)
    .map((p) => option(p.name, p.key, ` (${credits(p.credits)} ${truncate(unitAfter(p.credits, request.unit), option_unit_chars_max)}, ${credits(p.free)} free)`));
  const unlisted = stocked.length - options.length;
  return {
    type: 'modal',
    callback_id: views.approve,
    private_metadata: JSON.stringify({ requestId: request.id }),
    title: modalText('Approve request'),
    submit: modalText('Approve'),
    close: modalText('Cancel'),
    blocks: [
      section(`<@${request.slackId}> asked for ${asked(request, several)}. Assign a free pack, or grant an amount.`),
      ...(options.length > 0
        ? [{ type: 'input' as const, block_id: blockIds.pack, optional: true, label: plain('Assign a free pack'), element: { type: 'static_select' as const, action_id: inputs.pack, options } }]
        : [context(`No free ${several ? `${mrkdwnText(request.toolName, name_chars_shown_max)} ` : ''}packs in inventory: grant an amount instead.`)]),
      ...(unlisted > 0 ? [context(`${counted(unlisted, 'more pack product')} ${noun(unlisted, 'has', 'have')} free packs; \`/credits admin\` → Assign a pack takes any of them by key.`)] : []),
      {
        type: 'input', block_id: blockIds.amount, optional: true, label: plain(`Or grant this many ${truncate(request.unit, name_chars_shown_max)}`),
        element: { type: 'number_input', is_decimal_allowed: false, min_value: '1', action_id: inputs.amount, initial_value: String(request.credits) },
      },
    ],
  };
}
