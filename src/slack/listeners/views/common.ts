// What every modal-submission listener shares: its arguments, field errors, reading the state, a DM.
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { section } from '../../blocks/common.ts';
import type { ViewState } from '../../parse/views.ts';

export type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** Slack shows each message under the input block it is keyed by. */
export const errors = (errs: Record<string, string>) => ({ response_action: 'errors' as const, errors: errs });

export const state = (args: Args) => args.view.state.values as unknown as ViewState;

/** Tells the submitter something after the modal closed; a DM that fails is not worth an error. */
export const dm = (args: Args, text: string) =>
  args.client.chat.postMessage({ channel: args.body.user.id, text, blocks: [section(text)] } as never).catch(() => {});
