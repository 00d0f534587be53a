// Slack's Block Kit limits as named constants, and the helpers every builder uses to keep to them:
// characters counted as Slack counts them, cuts that never split a character or a mrkdwn token,
// and lists that show their first entries and say how many more there are.
//
// Every number is from Slack's Block Kit reference (docs.slack.dev/reference/block-kit/...); a
// surface over any of them is refused whole (`invalid_blocks`), so a builder must never rely on
// Slack to cut.

/** "You can include up to 50 blocks in each message, and 100 blocks in modals or Home tabs" (block-kit/blocks). */
export const message_blocks_max = 50;
export const view_blocks_max = 100;
/** A section's text: 1 to 3,000 characters (block-kit/blocks/section-block). */
export const section_text_chars_max = 3_000;
/** A section's fields: at most 10, each at most 2,000 characters (block-kit/blocks/section-block). */
export const section_fields_max = 10;
export const section_field_chars_max = 2_000;
/** A context block's elements: at most 10 (block-kit/blocks/context-block); a text object holds at most 3,000. */
export const context_elements_max = 10;
export const text_object_chars_max = 3_000;
/** A header's plain text: at most 150 characters (block-kit/blocks/header-block). */
export const header_text_chars_max = 150;
/** Elements in one actions block: at most 25 (block-kit/blocks/actions-block). */
export const actions_elements_max = 25;
/** A button's text: at most 75 characters; its value at most 2,000 (block-kit/block-elements/button-element). */
export const button_text_chars_max = 75;
export const button_value_chars_max = 2_000;
/** An option's text: at most 75 characters; its value at most 150 (block-kit/composition-objects/option-object). */
export const option_text_chars_max = 75;
export const option_value_chars_max = 150;
/** Options in one select menu: at most 100 (block-kit/block-elements/select-menu-element). */
export const menu_options_max = 100;
/** An element's placeholder: at most 150 characters. */
export const placeholder_chars_max = 150;
/** An input block's label and hint: at most 2,000 characters (block-kit/blocks/input-block). */
export const input_label_chars_max = 2_000;
/** A plain-text input's max_length: at most 3,000; its initial_value must fit within max_length. */
export const plain_text_input_chars_max = 3_000;
/** A modal's title, submit and close texts: at most 24 characters each (reference/views/modal-views). */
export const modal_title_chars_max = 24;
/** A view's private_metadata: at most 3,000 characters (reference/views/modal-views). */
export const private_metadata_chars_max = 3_000;
/** A message's top-level `text`: Slack truncates past 40,000 characters (changelog 2018-04, "Truncating really long messages"). */
export const message_text_chars_max = 40_000;

// creditdesk's own caps, inside Slack's: how much of one name or note a list line shows, so one
// long entry cannot crowd out the rest of a list.
/** A name in a list line: a plan, pack product, profile, member's name or email. */
export const name_chars_shown_max = 100;
/** A note in a list line: a feature, a reason. */
export const note_chars_shown_max = 150;

/**
 * Length as Slack counts it: in Unicode code points. Slack validates blocks against a JSON
 * schema ("must be less than 3001 characters [json-pointer:/blocks/0/text/text]"), and JSON
 * Schema's maxLength counts code points, so an emoji outside the BMP is one character here
 * where JavaScript's `length` says two.
 */
export function slackLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
/** What a cut must keep whole: an entity we escaped (`&amp;`), and a token such as `<@U123>` or `<!date^…|…>`. */
const atom = /&(?:amp|lt|gt);|<[^<>\n]*>/g;

/**
 * The text as the pieces a cut may fall between (whole entities, whole tokens, whole graphemes),
 * up to UTF-16 index `end`: a cut never needs more, and segmenting all of a long text is slow.
 */
function* pieces(text: string, end: number): Generator<string> {
  let at = 0;
  for (const match of text.matchAll(atom)) {
    if (match.index >= end) break;
    for (const g of graphemes.segment(text.slice(at, match.index))) yield g.segment;
    yield match[0];
    at = match.index + match[0].length;
  }
  if (at < end) for (const g of graphemes.segment(text.slice(at, end))) yield g.segment;
}

/**
 * `text` cut to at most `max` characters (as Slack counts them), ending in `ellipsis` when cut.
 * The cut falls between graphemes (never inside a surrogate pair or an emoji sequence) and
 * never inside an escaped entity or a `<…>` token, so what is left still renders as it should.
 * Works on plain text and on mrkdwn alike.
 */
export function truncate(text: string, max: number, ellipsis = '…'): string {
  if (text.length <= max || slackLength(text) <= max) return text;
  const budget = max - slackLength(ellipsis);
  let kept = '';
  let used = 0;
  // 2 × max + 2 UTF-16 units hold more than `max` code points: the cut falls before that index, and
  // a grapheme the slice splits there can never fit (everything before it already fills the budget).
  for (const piece of pieces(text, 2 * max + 2)) {
    const size = slackLength(piece);
    if (used + size > budget) break;
    kept += piece;
    used += size;
  }
  return kept.trimEnd() + ellipsis;
}

/**
 * Lines for a list: an array, or a count and a function that draws line `i`, so a list of 5,000
 * members draws only the lines that can be shown.
 */
export type Lines = readonly string[] | { readonly count: number; line(i: number): string };

/** The lines of `items`, drawn only when asked for. */
export const lazyLines = <T>(items: readonly T[], draw: (item: T, i: number) => string): Lines => ({ count: items.length, line: (i) => draw(items[i]!, i) });

const countOf = (lines: Lines) => ('count' in lines ? lines.count : lines.length);
const lineOf = (lines: Lines, i: number) => ('line' in lines ? lines.line(i) : lines[i]!);

export interface CappedOptions {
  /** The joined result's length at most, in characters. */
  maxChars: number;
  /** Lines shown at most, whatever their length. */
  maxLines?: number;
  /** The line that replaces the hidden ones: says how many, and where they all are. */
  more: (hidden: number) => string;
  separator?: string;
}

/**
 * The first lines that fit in `maxChars` (and `maxLines`), joined, followed by `more(hidden)`
 * when any were left out. A first line longer than the room is shortened with an ellipsis.
 * An empty list gives ''.
 */
export function cappedLines(lines: Lines, options: CappedOptions): string {
  const separator = options.separator ?? '\n';
  const gapSize = slackLength(separator);
  const count = countOf(lines);
  const maxLines = Math.min(count, options.maxLines ?? count);
  // The "and N more" line is never longer than with every line hidden.
  const room = options.maxChars - gapSize - slackLength(options.more(count));
  const shown: string[] = [];
  let used = 0;
  let i = 0;
  for (; i < maxLines; i++) {
    const line = lineOf(lines, i);
    const size = (shown.length > 0 ? gapSize : 0) + slackLength(line);
    if (used + size > room) break;
    shown.push(line);
    used += size;
  }
  if (i === count) return shown.join(separator);
  if (maxLines === count) {
    // Every line may still fit once no room is kept for saying how many are hidden.
    const rest: string[] = [];
    let total = used;
    for (let j = i; j < count; j++) {
      const line = lineOf(lines, j);
      total += (shown.length + rest.length > 0 ? gapSize : 0) + slackLength(line);
      if (total > options.maxChars) break;
      rest.push(line);
    }
    if (shown.length + rest.length === count) return [...shown, ...rest].join(separator);
  }
  if (shown.length === 0 && maxLines > 0) {
    const piece = truncate(lineOf(lines, 0), count === 1 ? options.maxChars : room);
    // A line cut down to a stub says nothing; it is counted among the hidden ones instead.
    if (slackLength(piece) >= 2) shown.push(piece);
  }
  const hidden = count - shown.length;
  if (hidden === 0) return shown.join(separator);
  return shown.length > 0 ? `${shown.join(separator)}${separator}${options.more(hidden)}` : options.more(hidden);
}

/**
 * Lines split into chunks of at most `maxChars` each (one section apiece), at most `maxChunks`
 * of them; lines that do not fit are replaced by `more(hidden)` at the end of the last chunk.
 * No line is ever split between chunks; one longer than a chunk is shortened.
 */
export function chunkLines(lines: Lines, options: { maxChars: number; maxChunks: number; more: (hidden: number) => string }): string[] {
  const count = countOf(lines);
  const chunks: string[][] = [];
  let size = 0;
  let placed = 0;
  for (; placed < count; placed++) {
    const piece = truncate(lineOf(lines, placed), options.maxChars);
    const current = chunks.at(-1);
    if (current && size + 1 + slackLength(piece) <= options.maxChars) {
      current.push(piece);
      size += 1 + slackLength(piece);
    } else if (chunks.length < options.maxChunks) {
      chunks.push([piece]);
      size = slackLength(piece);
    } else {
      break;
    }
  }
  if (placed === count) return chunks.map((c) => c.join('\n'));
  // Some did not fit: the last chunk makes room for the line that says so.
  const last = chunks.pop() ?? [];
  const tail: Lines = { count: last.length + count - placed, line: (i) => (i < last.length ? last[i]! : lineOf(lines, placed + i - last.length)) };
  return [...chunks.map((c) => c.join('\n')), cappedLines(tail, { maxChars: options.maxChars, more: options.more })];
}
