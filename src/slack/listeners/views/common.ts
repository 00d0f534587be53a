// What every modal-submission listener shares: its arguments, field errors, reading the state, a DM,
// and the idempotency key of a submission.
import { createHash } from 'node:crypto';
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

/** JSON with every object's keys sorted, so equal values always hash alike. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The idempotency key of a modal submission: its view id and a SHA-256 of the submitted values
 * and private_metadata. Slack's retry of a submission repeats both, so it applies once; the same
 * form sent again with other values (after a field error, or a revoke's preview then its confirm)
 * is another write.
 */
export function submissionKey(args: Args): string {
  const { id, callback_id, private_metadata, state: submitted } = args.view;
  const hash = createHash('sha256').update(canonical({ values: submitted.values, metadata: private_metadata ?? '' })).digest('hex');
  return `view:${callback_id}:${id}:${hash}`;
}
