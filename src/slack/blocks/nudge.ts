// The weekly sync nudge as Slack shows it: the DM with a button per tool, and the one-field modal
// that asks what the vendor shows as the member's remaining credits. Pure builders; the ids the
// listeners match live here beside them.
import type { NudgeTool, SyncNudgePayload } from '../../jobs/nudge.ts';
import { mrkdwnText } from '../format.ts';
import { actionsRow, button, modalText, plain, section, type Message, type ModalView } from './common.ts';
import { actions_elements_max, name_chars_shown_max, truncate } from './limits.ts';

/** The nudge's action, view and input ids (kept with their builders; src/slack/ids.ts holds the others). */
export const nudge_ids = {
  open: 'sync_nudge_open',
  submit: 'sync_nudge_submit',
  block: 'sync_nudge_remaining',
  input: 'sync_nudge_remaining_input',
} as const;

/** A tool's name in a button's text, so "Record my … balance" keeps its ends inside 75 characters. */
const button_name_chars_max = 50;
/** A tool's name and unit inside a button's value and a modal's label: long ones are shortened. */
const tool_text_chars_max = 200;

/** What the button carries to the modal, so it opens before anything is read (a trigger id lives 3 s). */
export const nudgeButtonValue = (tool: NudgeTool) =>
  JSON.stringify({ key: tool.key, name: truncate(tool.name, tool_text_chars_max), unit: truncate(tool.unit, tool_text_chars_max) });

/** "a", "a and b", "a, b and c". */
const andList = (items: readonly string[]) => (items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

/** The weekly DM: which tools to read a balance off, and a button for each (the first 25, an actions block's most). */
export function syncNudgeMessage(payload: SyncNudgePayload): Message {
  const tools = payload.tools.slice(0, actions_elements_max);
  const one = tools.length === 1;
  const list = andList(tools.map((t) => `*${mrkdwnText(t.name, name_chars_shown_max)}*`));
  const plainList = andList(tools.map((t) => truncate(t.name, name_chars_shown_max)));
  return {
    text: `Weekly check: what ${one ? 'does' : 'do'} ${plainList} show as your remaining ${one ? 'balance' : 'balances'}? One click records it in creditdesk.`,
    blocks: [
      section(
        `*Weekly check with the vendor*\n${list} ${one ? 'does' : 'do'} not tell creditdesk what you use. ` +
          `Open ${one ? 'it' : 'each'}, read your remaining balance, and record it here: creditdesk then knows what you used this week.`,
      ),
      actionsRow(...tools.map((t) => button(`Record my ${truncate(t.name, button_name_chars_max)} balance`, nudge_ids.open, nudgeButtonValue(t)))),
    ],
  };
}

/** The one-field modal: the remaining balance the vendor shows; the tool travels in private_metadata. */
export function syncNudgeModal(tool: NudgeTool): ModalView {
  const name = truncate(tool.name, tool_text_chars_max);
  const unit = truncate(tool.unit, tool_text_chars_max);
  return {
    type: 'modal',
    callback_id: nudge_ids.submit,
    private_metadata: JSON.stringify({ tool: tool.key }),
    title: modalText('Sync with the vendor'),
    submit: modalText('Record'),
    close: modalText('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: nudge_ids.block,
        label: plain(`What does ${name} show as your remaining ${unit}?`),
        hint: plain('A whole number, as the vendor shows it (2400 or 2,400). A lower figure than creditdesk expects is recorded as usage; a higher one goes to an admin.'),
        element: { type: 'plain_text_input', action_id: nudge_ids.input, placeholder: plain('e.g. 2,400') },
      },
    ],
  };
}
