// The admin modal menu and its forms: seats (revoke after a preview), packs, purchases,
// adjustments, the catalog (tools, plans, pack products, profiles), promotions. Every form is
// checked again on the server when submitted. A form asks for a tool only when there is a choice:
// plans grouped by tool when the org has several, which seat when a member holds several.
import type { types } from '@slack/bolt';
import { text_length_max } from '../../ledger/limits.ts';
import type { RevokePlan } from '../../ledger/seats.ts';
import { actions, blocks as ids, inputs, views } from '../ids.ts';
import { counted, noun } from '../../words.ts';
import { credits, escapeKeepingMentions, mrkdwnText } from '../format.ts';
import { actionsRow, button, listSection, modalText, option, plain, section, type ModalView } from './common.ts';
import { lazyLines, menu_options_max, name_chars_shown_max, option_text_chars_max, section_text_chars_max, truncate } from './limits.ts';

/** What the seat and catalog forms offer: the org's tools, in the order they were created, and every plan with its tool. */
export interface AdminFormData {
  tools: readonly { key: string; name: string }[];
  plans: readonly { key: string; name: string; toolKey: string }[];
}

/** A tool as a form offers it: a seat, or a catalog entry's tool. */
export interface ToolChoice {
  key: string;
  name: string;
}

export const admin_forms = ['seat', 'revoke', 'assign', 'unassign', 'purchase', 'adjust', 'catalog', 'promote'] as const;
export type AdminForm = (typeof admin_forms)[number];

export function adminMenu(): ModalView {
  return {
    type: 'modal',
    title: modalText('creditdesk admin'),
    close: modalText('Close'),
    blocks: [
      section('What would you like to do?'),
      actionsRow(
        button('Add or restore a seat', actions.adminMenu, 'seat'),
        button('Revoke a seat', actions.adminMenu, 'revoke'),
        button('Assign a pack', actions.adminMenu, 'assign'),
        button('Adjust credits', actions.adminMenu, 'adjust'),
      ),
      actionsRow(
        button('Unassign a pack', actions.adminMenu, 'unassign'),
        button('Record a purchase', actions.adminMenu, 'purchase'),
        button('Plans, packs, profiles', actions.adminMenu, 'catalog'),
        button('Promote an admin', actions.adminMenu, 'promote'),
      ),
    ],
  };
}

const userInput = (label: string): types.InputBlock => ({
  type: 'input', block_id: ids.user, label: plain(label), element: { type: 'users_select', action_id: inputs.user },
});
const textInput = (blockId: string, actionId: string, label: string, optional = false): types.InputBlock => ({
  type: 'input', block_id: blockId, label: plain(label), optional, element: { type: 'plain_text_input', action_id: actionId, max_length: text_length_max },
});
const numberField = (blockId: string, actionId: string, label: string): types.InputBlock => ({
  type: 'input', block_id: blockId, label: plain(label), element: { type: 'number_input', is_decimal_allowed: false, min_value: '1', action_id: actionId },
});
const numberInput = (label: string, negative = false): types.InputBlock => ({
  type: 'input', block_id: ids.amount, label: plain(label),
  element: { type: 'number_input', is_decimal_allowed: false, action_id: inputs.amount, ...(negative ? {} : { min_value: '1' }) },
});

const optionalNumber = (blockId: string, actionId: string, label: string, min = '1'): types.InputBlock => ({
  type: 'input', block_id: blockId, label: plain(label), optional: true,
  element: { type: 'number_input', is_decimal_allowed: false, min_value: min, action_id: actionId },
});

/** A menu of tools, or with more than a menu holds, a field for the key. */
function toolInput(tools: readonly ToolChoice[], label: string, optional: boolean): types.InputBlock {
  if (tools.length > menu_options_max) return { ...textInput(ids.tool, inputs.tool, `${label}: its key`, optional) };
  return {
    type: 'input', block_id: ids.tool, label: plain(label), optional,
    element: { type: 'static_select', action_id: inputs.tool, options: tools.map((t) => option(t.name, t.key)) },
  };
}

/**
 * The plans a seat holds: with several tools, a menu of every plan grouped by its tool (a seat's
 * plans are all of one tool), while they fit one menu; else a field for plan keys.
 */
function planInput(data: AdminFormData | undefined): types.InputBlock {
  const several = (data?.tools.length ?? 0) > 1;
  if (!data || !several || data.plans.length === 0 || data.plans.length > menu_options_max) {
    return textInput(ids.plan, inputs.plan, several ? 'Plan keys, all of one tool (e.g. pro, or pro, extra)' : 'Plan keys (e.g. pro, or pro, extra)');
  }
  const groups = data.tools
    .map((tool) => ({ tool, plans: data.plans.filter((p) => p.toolKey === tool.key) }))
    .filter((g) => g.plans.length > 0)
    .map((g) => ({ label: plain(truncate(g.tool.name, option_text_chars_max)), options: g.plans.map((p) => option(p.name, p.key)) }));
  return {
    type: 'input', block_id: ids.plans, label: plain('Plans, all of one tool'), hint: plain('Their credits stack. A member holds one seat per tool: add a seat for each tool.'),
    element: { type: 'multi_static_select', action_id: inputs.plans, option_groups: groups },
  };
}

export function adminForm(form: AdminForm, data?: AdminFormData): ModalView {
  const base = { type: 'modal' as const, close: modalText('Back'), submit: modalText('Continue') };
  switch (form) {
    case 'seat':
      return {
        ...base, callback_id: views.adminSeat, title: modalText('Add a seat'), submit: modalText('Add seat'),
        blocks: [userInput('Member'), planInput(data), textInput(ids.vendorUser, inputs.vendorUser, 'Vendor login, such as a GitHub login', true)],
      };
    case 'revoke':
      return { ...base, callback_id: views.adminRevoke, title: modalText('Revoke a seat'), submit: modalText('Preview'), blocks: [userInput('Member')] };
    case 'assign':
      return { ...base, callback_id: views.adminAssign, title: modalText('Assign a pack'), submit: modalText('Assign'), blocks: [userInput('Member'), textInput(ids.pack, inputs.pack, 'Pack product key (e.g. addon)')] };
    case 'unassign':
      return { ...base, callback_id: views.adminUnassign, title: modalText('Unassign a pack'), submit: modalText('Unassign'), blocks: [numberField(ids.key, inputs.key, 'Pack number (shown in the App Home and the API)')] };
    case 'purchase':
      return {
        ...base, callback_id: views.adminPurchase, title: modalText('Record a purchase'), submit: modalText('Record'),
        blocks: [textInput(ids.key, inputs.key, 'Pack product key (e.g. addon)'), numberField(ids.quantity, inputs.quantity, 'How many packs'), textInput(ids.reference, inputs.reference, 'Reference, e.g. a PO number', true)],
      };
    case 'catalog': {
      const several = (data?.tools.length ?? 0) > 1;
      return {
        ...base, callback_id: views.adminCatalog, title: modalText('Plans, packs, profiles'), submit: modalText('Save'),
        blocks: [
          {
            type: 'input', block_id: ids.kind, label: plain('What'),
            element: { type: 'static_select', action_id: inputs.kind, options: [
              option('Plan (credits per cycle)', 'plan'),
              option('Recurring pack product', 'recurring'),
              option('One-time pack product', 'one_time'),
              option('Profile with a shared pool', 'profile'),
              option('Tool (a vendor\'s credits: name, unit, overage budget)', 'tool'),
            ] },
          },
          ...(several ? [toolInput(data!.tools, 'Its tool (plans, packs, profiles; one that exists keeps its own)', true)] : []),
          textInput(ids.key, inputs.key, 'Key (lowercase, e.g. pro)'),
          textInput(ids.name, inputs.name, 'Name'),
          { ...numberField(ids.amount, inputs.amount, 'Credits per cycle (the pool for a profile; empty for a tool)'), optional: true },
          {
            type: 'input', block_id: ids.reassign, optional: true, label: plain('Packs: what the next assignee gets'),
            element: { type: 'static_select', action_id: inputs.reassign, options: [
              option('The unused credits (default)', 'remaining'),
              option('A fresh grant', 'full'),
              option('Nothing until their next reset', 'next_cycle'),
            ] },
          },
          { ...numberField(ids.expires, inputs.expires, 'One-time packs: days the credits last'), optional: true },
          optionalNumber(ids.dailyLimit, inputs.dailyLimit, 'Plans: credits per member per day (empty keeps what the plan has)'),
          textInput(ids.unit, inputs.unit, 'Tools: what its credits are called, e.g. premium requests', true),
          optionalNumber(ids.budget, inputs.budget, 'Tools: overage budget per cycle (empty keeps what the tool has)', '0'),
        ],
      };
    }
    case 'promote':
      return { ...base, callback_id: views.adminPromote, title: modalText('Promote an admin'), submit: modalText('Promote'), blocks: [userInput('Member')] };
    case 'adjust':
      return { ...base, callback_id: views.adminAdjust, title: modalText('Adjust credits'), submit: modalText('Apply'), blocks: [userInput('Member'), numberInput('Credits (negative to debit)', true), textInput(ids.reason, inputs.reason, 'Reason')] };
  }
}

/** A form replaced by a short notice (plain text), such as a refusal: it names no field, so fits any form. */
export function noticeModal(title: string, text: string): ModalView {
  // A notice names people by mention; anything else in it is shown as text.
  return { type: 'modal', title: modalText(title), close: modalText('Close'), blocks: [section(truncate(escapeKeepingMentions(text), section_text_chars_max))] };
}

/**
 * The step that asks which seat, when the member holds seats in several tools: revoking shows a
 * menu of their seats (then the preview); adjusting shows the form again, prefilled, with the menu.
 * The member is carried in private_metadata.
 */
export function seatPicker(form: 'revoke' | 'adjust', user: string, seats: readonly ToolChoice[], prefill: { credits?: number; reason?: string } = {}): ModalView {
  const menu: types.InputBlock = {
    type: 'input', block_id: ids.tool, label: plain('Which seat?'),
    element: { type: 'static_select', action_id: inputs.tool, options: seats.slice(0, menu_options_max).map((t) => option(t.name, t.key)) },
  };
  const head = section(`<@${user}> holds seats in ${counted(seats.length, 'tool')}.`);
  if (form === 'revoke') {
    return {
      type: 'modal', callback_id: views.adminRevoke, private_metadata: JSON.stringify({ user }), title: modalText('Revoke a seat'),
      submit: modalText('Preview'), close: modalText('Back'), blocks: [head, menu],
    };
  }
  const amount = numberInput('Credits (negative to debit)', true);
  const reason = textInput(ids.reason, inputs.reason, 'Reason');
  return {
    type: 'modal', callback_id: views.adminAdjust, private_metadata: JSON.stringify({ user }), title: modalText('Adjust credits'),
    submit: modalText('Apply'), close: modalText('Back'),
    blocks: [
      head, menu,
      prefill.credits != null ? { ...amount, element: { ...(amount.element as types.NumberInput), initial_value: String(prefill.credits) } } : amount,
      prefill.reason ? { ...reason, element: { ...(reason.element as types.PlainTextInput), initial_value: truncate(prefill.reason, text_length_max) } } : reason,
    ],
  };
}

/**
 * What revoking will do, with a confirm: shown before anything changes. Packs past one section
 * are counted; the API's revoke preview lists every one. `toolName` names the seat's tool where
 * the org has several.
 */
export function revokePreview(plan: RevokePlan, userId: string, toolName?: string): ModalView {
  const packs = lazyLines(plan.packs, (p) => {
    const next = p.policy === 'remaining' ? `carries ${credits(p.next_assignee_gets)} unused to its next assignee` : p.policy === 'full' ? `gives its next assignee a fresh ${credits(p.next_assignee_gets)}` : 'gives its next assignee nothing until their reset';
    return `• Pack ${p.pack_id} (${mrkdwnText(p.product, name_chars_shown_max)}): ${credits(p.unused)} unused; ${next}${p.forfeited ? `; ${credits(p.forfeited)} forfeited` : ''}`;
  });
  return {
    type: 'modal',
    callback_id: views.adminRevoke,
    private_metadata: JSON.stringify(toolName ? { confirm: userId, tool: plan.tool } : { confirm: userId }),
    title: modalText('Confirm revocation'),
    submit: modalText('Revoke seat'),
    close: modalText('Cancel'),
    blocks: [
      section(
        `Revoking <@${userId}>'s ${toolName ? `${mrkdwnText(toolName, name_chars_shown_max)} ` : ''}seat forfeits *${credits(plan.forfeited)}* unused plan and manual ${noun(plan.forfeited, 'credit')} ` +
          `and returns ${counted(plan.packs.length, 'pack')} to inventory.`,
      ),
      ...(plan.packs.length > 0
        ? [listSection('', packs, { empty: '', more: (n) => `and ${counted(n, 'more pack')} (\`GET /api/v1/seats/:user/revoke-preview\` lists them all)` })]
        : []),
    ],
  };
}
