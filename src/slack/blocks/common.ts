// Small Block Kit pieces every builder uses.
export type Block = Record<string, unknown>;

export interface Message {
  text: string;
  blocks: Block[];
}

export const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });
export const context = (text: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
export const divider: Block = { type: 'divider' };
export const button = (text: string, actionId: string, value = '', style?: 'primary' | 'danger'): Block => ({
  type: 'button',
  text: { type: 'plain_text', text },
  action_id: actionId,
  value,
  ...(style ? { style } : {}),
});
export const actionsRow = (...elements: Block[]): Block => ({ type: 'actions', elements });
export const plain = (text: string) => ({ type: 'plain_text' as const, text });
