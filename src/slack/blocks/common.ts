// Small Block Kit pieces every builder uses, typed with Slack's own Block Kit types (@slack/types,
// re-exported by Bolt) so a misspelt field fails at compile time.
import type { types } from '@slack/bolt';
import { button_text_chars_max, chunkLines, cappedLines, type Lines, modal_title_chars_max, option_text_chars_max, section_text_chars_max, slackLength, truncate } from './limits.ts';

export type Block = types.KnownBlock;
export type ModalView = types.ModalView;
export type HomeView = types.HomeView;

export interface Message {
  /** The notification and fallback text: mrkdwn, dates as plain text in the org's zone. */
  text: string;
  blocks: Block[];
}

export const section = (text: string): types.SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
export const context = (text: string): types.ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
export const divider: types.DividerBlock = { type: 'divider' };
export const button = (text: string, actionId: string, value = '', style?: 'primary' | 'danger'): types.Button => ({
  type: 'button',
  text: { type: 'plain_text', text: truncate(text, button_text_chars_max) },
  action_id: actionId,
  value,
  ...(style ? { style } : {}),
});
export const actionsRow = (...elements: types.ActionsBlockElement[]): types.ActionsBlock => ({ type: 'actions', elements });
export const plain = (text: string): types.PlainTextElement => ({ type: 'plain_text', text });
/** A modal's title, submit or close text: at most 24 characters. */
export const modalText = (text: string) => plain(truncate(text, modal_title_chars_max));
/** An option of a select menu; a long text is shortened, keeping `suffix` (such as counts) whole. */
export const option = (text: string, value: string, suffix = ''): types.PlainTextOption => ({
  text: plain(truncate(text, option_text_chars_max - slackLength(suffix)) + suffix),
  value,
});

export interface ListOptions {
  /** What the section says when the list is empty. */
  empty: string;
  /** The line that stands for the entries left out: how many, and where they all are. */
  more: (hidden: number) => string;
  maxLines?: number;
  separator?: string;
}

/** `head` and then the list, in one section of at most 3,000 characters: the first entries, then how many more. */
export function listSection(head: string, lines: Lines, options: ListOptions): types.SectionBlock {
  const body = isEmpty(lines)
    ? options.empty
    : cappedLines(lines, { maxChars: section_text_chars_max - slackLength(head), maxLines: options.maxLines, more: options.more, separator: options.separator });
  return section(`${head}${body}`);
}

/**
 * `head` and then a list too long for one section, in up to `maxSections` sections of at most
 * 3,000 characters each; lines that still do not fit are counted at the end.
 */
export function listSections(head: string, lines: Lines, options: ListOptions & { maxSections: number }): types.SectionBlock[] {
  if (isEmpty(lines)) return [section(`${head}${options.empty}`)];
  const count = 'count' in lines ? lines.count : lines.length;
  const withHead: Lines = { count: count + 1, line: (i) => (i === 0 ? head.replace(/\n$/, '') : 'line' in lines ? lines.line(i - 1) : lines[i - 1]!) };
  return chunkLines(withHead, { maxChars: section_text_chars_max, maxChunks: options.maxSections, more: options.more }).map(section);
}

const isEmpty = (lines: Lines) => ('count' in lines ? lines.count : lines.length) === 0;
