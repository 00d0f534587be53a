// What every modal-submission listener shares: its arguments, field errors, reading the state, a DM.
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { section } from '../../blocks/common.ts';
import { escapeKeepingMentions } from '../../format.ts';
import type { ViewState } from '../../parse/views.ts';

export type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** Slack shows each message under the input block it is keyed by. */
export const errors = (errs: Record<string, string>) => ({ response_action: 'errors' as const, errors: errs });

export const state = (args: Args) => args.view.state.values as unknown as ViewState;

/**
 * Tells the submitter something after the modal closed; a DM that fails is not worth an error.
 * `text` may carry what someone typed (a name, a reason): all of it is escaped but the mentions.
 */
export const dm = (args: Args, text: string) => {
  const safe = escapeKeepingMentions(text);
  return args.client.chat.postMessage({ channel: args.body.user.id, text: safe, blocks: [section(safe)] } as never).catch(() => {});
};
