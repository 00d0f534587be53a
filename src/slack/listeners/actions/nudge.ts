// The weekly sync nudge's button: opens the one-field modal at once (the trigger id lives 3 s), with
// the tool's name and unit the button carries, so nothing is read before it opens.
import type { App } from '@slack/bolt';
import { z } from 'zod';
import { nudge_ids, syncNudgeModal } from '../../blocks/nudge.ts';
import type { SlackContext } from '../../context.ts';
import type { ButtonArgs } from './common.ts';

const button_value = z.object({ key: z.string().min(1), name: z.string(), unit: z.string() });

export function register(app: App, _ctx: SlackContext): void {
  app.action(nudge_ids.open, async (args) => {
    const { ack, body, client, action } = args as ButtonArgs;
    await ack();
    let tool;
    try {
      tool = button_value.parse(JSON.parse(action.value ?? ''));
    } catch {
      throw new Error(`a sync nudge button carried a value it was not drawn with: ${String(action.value).slice(0, 40)}`);
    }
    await client.views.open({ trigger_id: body.trigger_id, view: syncNudgeModal(tool) });
  });
}
