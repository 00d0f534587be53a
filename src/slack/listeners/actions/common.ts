// What button listeners share: their arguments, and a short ephemeral answer to the clicker.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { section } from '../../blocks/common.ts';

export type ButtonArgs = Parameters<Parameters<App['action']>[1]>[0] & { body: BlockAction; action: ButtonAction };

/** Answers only the person who clicked, below the message; a reply Slack refuses is not worth an error. */
export const respondWith = (args: ButtonArgs, text: string) =>
  args.respond({ response_type: 'ephemeral', replace_original: false, text, blocks: [section(text)] } as never).then(
    () => undefined,
    () => undefined,
  );
