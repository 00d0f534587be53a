// Holds any Block Kit message, modal or Home view against Slack's documented limits and returns
// every one it breaks, as `path: what (limit)`. Its numbers are written out here, each with the
// page of Slack's reference that gives it, and not imported from the code under test, so a wrong
// constant there cannot hide a broken surface.
//
// Sources (docs.slack.dev, "Block Kit" reference; api.slack.com changelog):
//   blocks .............. reference/block-kit/blocks: "up to 50 blocks in each message, and 100 blocks in modals or Home tabs"
//   section ............. reference/block-kit/blocks/section-block: text 1-3,000; fields at most 10, each at most 2,000
//   context ............. reference/block-kit/blocks/context-block: elements at most 10
//   header .............. reference/block-kit/blocks/header-block: plain_text at most 150
//   actions ............. reference/block-kit/blocks/actions-block: at most 25 elements
//   input ............... reference/block-kit/blocks/input-block: label and hint at most 2,000
//   text object ......... reference/block-kit/composition-objects/text-object: text 1-3,000
//   option .............. reference/block-kit/composition-objects/option-object: text at most 75, value at most 150, description at most 75
//   button .............. reference/block-kit/block-elements/button-element: text at most 75, value at most 2,000, url at most 3,000
//   select menus ........ reference/block-kit/block-elements/select-menu-element: options and option_groups at most 100 each; placeholder at most 150
//   plain_text_input .... reference/block-kit/block-elements/plain-text-input-element: min/max_length at most 3,000; placeholder at most 150
//   modal view .......... reference/views/modal-views: title, submit, close at most 24; blocks at most 100; private_metadata at most 3,000; callback_id at most 255
//   home view ........... reference/views/home-tab-views: blocks at most 100; private_metadata at most 3,000
//   message text ........ changelog 2018-04 "Truncating really long messages": `text` is truncated past 40,000 characters
//   ids ................. block_id and action_id at most 255 (every block and element page)

const limits = {
  message_blocks: 50,
  view_blocks: 100,
  section_text: 3_000,
  section_fields: 10,
  section_field_text: 2_000,
  context_elements: 10,
  text_object: 3_000,
  header_text: 150,
  actions_elements: 25,
  input_label: 2_000,
  input_hint: 2_000,
  option_text: 75,
  option_value: 150,
  option_description: 75,
  menu_options: 100,
  menu_option_groups: 100,
  placeholder: 150,
  button_text: 75,
  button_value: 2_000,
  url: 3_000,
  plain_text_input_length: 3_000,
  modal_title: 24,
  private_metadata: 3_000,
  callback_id: 255,
  block_id: 255,
  action_id: 255,
  message_text: 40_000,
} as const;

/**
 * Characters as Slack counts them: Unicode code points. Slack checks blocks with a JSON schema
 * ("must be less than 3001 characters [json-pointer:/blocks/0/text/text]"), whose maxLength counts
 * code points; JavaScript's `length` would count an emoji outside the BMP twice.
 */
export const slackChars = (text: string) => [...text].length;

type Json = Record<string, any>;

class Walk {
  readonly broken: string[] = [];

  max(path: string, value: unknown, limit: number, what = 'characters'): void {
    if (typeof value === 'string') {
      const n = slackChars(value);
      if (n > limit) this.broken.push(`${path}: ${n} ${what} (Slack allows ${limit})`);
    } else if (Array.isArray(value) && value.length > limit) {
      this.broken.push(`${path}: ${value.length} ${what} (Slack allows ${limit})`);
    }
  }

  /** A text object: present, not empty, within `limit`, and plain where Slack takes only plain text. */
  text(path: string, object: unknown, limit: number, plainOnly = false): void {
    if (object == null) return;
    const t = object as Json;
    if (typeof t.text !== 'string' || (t.type !== 'plain_text' && t.type !== 'mrkdwn')) return void this.broken.push(`${path}: not a text object`);
    if (plainOnly && t.type !== 'plain_text') this.broken.push(`${path}: must be plain_text`);
    if (t.text.length === 0) this.broken.push(`${path}.text: empty (Slack needs at least 1 character)`);
    this.max(`${path}.text`, t.text, Math.min(limit, limits.text_object));
  }

  block(path: string, b: Json): void {
    this.max(`${path}.block_id`, b.block_id, limits.block_id);
    switch (b.type) {
      case 'section':
        if (b.text == null && b.fields == null) this.broken.push(`${path}: a section needs text or fields`);
        this.text(`${path}.text`, b.text, limits.section_text);
        this.max(`${path}.fields`, b.fields, limits.section_fields, 'fields');
        (b.fields ?? []).forEach((f: Json, i: number) => this.text(`${path}.fields[${i}]`, f, limits.section_field_text));
        if (b.accessory) this.element(`${path}.accessory`, b.accessory);
        return;
      case 'context':
        this.max(`${path}.elements`, b.elements, limits.context_elements, 'elements');
        if (!b.elements?.length) this.broken.push(`${path}: a context needs at least one element`);
        (b.elements ?? []).forEach((e: Json, i: number) => (e.type === 'image' ? undefined : this.text(`${path}.elements[${i}]`, e, limits.text_object)));
        return;
      case 'header':
        return this.text(`${path}.text`, b.text, limits.header_text, true);
      case 'actions':
        this.max(`${path}.elements`, b.elements, limits.actions_elements, 'elements');
        (b.elements ?? []).forEach((e: Json, i: number) => this.element(`${path}.elements[${i}]`, e));
        return;
      case 'input':
        this.text(`${path}.label`, b.label, limits.input_label, true);
        this.text(`${path}.hint`, b.hint, limits.input_hint, true);
        return this.element(`${path}.element`, b.element);
      case 'divider':
        return;
      default:
        this.broken.push(`${path}: block type ${String(b.type)} is not known to this check; teach it that block's limits`);
    }
  }

  element(path: string, e: Json): void {
    this.max(`${path}.action_id`, e.action_id, limits.action_id);
    this.text(`${path}.placeholder`, e.placeholder, limits.placeholder, true);
    switch (e.type) {
      case 'button':
        this.text(`${path}.text`, e.text, limits.button_text, true);
        this.max(`${path}.value`, e.value, limits.button_value);
        this.max(`${path}.url`, e.url, limits.url);
        return;
      case 'static_select':
      case 'multi_static_select':
        if (!e.options?.length && !e.option_groups?.length) this.broken.push(`${path}: a static menu needs options`);
        this.max(`${path}.options`, e.options, limits.menu_options, 'options');
        this.max(`${path}.option_groups`, e.option_groups, limits.menu_option_groups, 'option groups');
        (e.options ?? []).forEach((o: Json, i: number) => this.option(`${path}.options[${i}]`, o));
        (e.option_groups ?? []).forEach((g: Json, i: number) => {
          this.text(`${path}.option_groups[${i}].label`, g.label, limits.option_text, true);
          this.max(`${path}.option_groups[${i}].options`, g.options, limits.menu_options, 'options');
          (g.options ?? []).forEach((o: Json, j: number) => this.option(`${path}.option_groups[${i}].options[${j}]`, o));
        });
        if (e.initial_option) this.option(`${path}.initial_option`, e.initial_option);
        return;
      case 'plain_text_input': {
        if (typeof e.max_length === 'number' && e.max_length > limits.plain_text_input_length) {
          this.broken.push(`${path}.max_length: ${e.max_length} (Slack allows ${limits.plain_text_input_length})`);
        }
        const most = Math.min(e.max_length ?? limits.plain_text_input_length, limits.plain_text_input_length);
        if (typeof e.initial_value === 'string') this.max(`${path}.initial_value`, e.initial_value, most, 'characters, over the max_length');
        return;
      }
      case 'number_input':
        if (e.initial_value != null && !/^-?\d+(\.\d+)?$/.test(String(e.initial_value))) this.broken.push(`${path}.initial_value: not a number`);
        return;
      case 'users_select':
        return;
      default:
        this.broken.push(`${path}: element type ${String(e.type)} is not known to this check; teach it that element's limits`);
    }
  }

  option(path: string, o: Json): void {
    this.text(`${path}.text`, o.text, limits.option_text);
    this.text(`${path}.description`, o.description, limits.option_description);
    this.max(`${path}.value`, o.value, limits.option_value);
  }
}

/**
 * Every Slack limit the surface breaks. A surface is a message (`{text, blocks}`, as sent to
 * chat.postMessage or a response_url) or a view (`{type: 'modal' | 'home', ...}`, as sent to
 * views.open, views.update, views.push or views.publish). An empty list means Slack takes it.
 */
export function slackLimitViolations(surface: unknown): string[] {
  const w = new Walk();
  const s = surface as Json;
  const blocks: Json[] = Array.isArray(s.blocks) ? s.blocks : [];
  if (!Array.isArray(s.blocks)) w.broken.push('blocks: missing');
  if (s.type === 'modal' || s.type === 'home') {
    w.max('blocks', blocks, limits.view_blocks, 'blocks');
    w.max('private_metadata', s.private_metadata, limits.private_metadata);
    w.max('callback_id', s.callback_id, limits.callback_id);
    if (s.type === 'modal') {
      if (s.title == null) w.broken.push('title: a modal needs one');
      w.text('title', s.title, limits.modal_title, true);
      w.text('submit', s.submit, limits.modal_title, true);
      w.text('close', s.close, limits.modal_title, true);
      if (s.submit == null && blocks.some((b) => b.type === 'input')) w.broken.push('submit: a modal with an input needs one');
    }
  } else {
    w.max('blocks', blocks, limits.message_blocks, 'blocks');
    // Not a Slack refusal, but STYLE.md's rule: a message always carries a text fallback.
    if (typeof s.text !== 'string' || s.text.length === 0) w.broken.push('text: a message needs a text fallback');
    else w.max('text', s.text, limits.message_text);
  }
  blocks.forEach((b, i) => w.block(`blocks[${i}]`, b));
  return w.broken;
}

/** Every mrkdwn text of a surface, with its path: what Slack parses for mentions, links and dates. */
export function mrkdwnTexts(surface: unknown): { path: string; text: string }[] {
  const found: { path: string; text: string }[] = [];
  const visit = (path: string, value: unknown): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => visit(`${path}[${i}]`, v));
    if (value == null || typeof value !== 'object') return;
    const o = value as Json;
    if (o.type === 'mrkdwn' && typeof o.text === 'string') found.push({ path, text: o.text });
    for (const [key, v] of Object.entries(o)) if (typeof v === 'object') visit(path ? `${path}.${key}` : key, v);
  };
  const s = surface as Json;
  if (typeof s.text === 'string' && !('type' in s)) found.push({ path: 'text', text: s.text });
  visit('blocks', s.blocks);
  return found;
}

/**
 * Control sequences in a surface's mrkdwn that creditdesk never writes itself: special mentions
 * (`<!channel>`, `<!here>`, `<!everyone>`, user groups) and links (`<https://…|label>`). Each is
 * a member's text that was not escaped. Mentions of one member (`<@U…>`) and date tokens
 * (`<!date^…>`) are creditdesk's own and allowed.
 */
export function unescapedControls(surface: unknown): string[] {
  const found: string[] = [];
  for (const { path, text } of mrkdwnTexts(surface)) {
    for (const token of text.match(/<[^<>]*>/g) ?? []) {
      if (/^<@[UW][A-Z0-9]+>$/.test(token) || /^<!date\^\d+\^[^|>]+\|[^<>|]+>$/.test(token)) continue;
      found.push(`${path}: ${token.slice(0, 60)}`);
    }
  }
  return found;
}
