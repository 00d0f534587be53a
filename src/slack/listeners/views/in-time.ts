// Modal submissions answer Slack within its 3 s whatever the database does: the work gets a time
// budget. In time, Slack gets the work's own answer (field errors, close, another view); late, the
// modal turns into a "working on it" view, updated (views.update by view id) with the result.
import type { ListenerContext } from '../../background.ts';
import { resultModal, workingModal } from '../../blocks/progress.ts';
import { humanError } from '../../context.ts';
import { dm, type Args } from './common.ts';

/** Of Slack's 3 s for an answer, what the work may use; the rest is for the network and Bolt. */
export const view_ack_budget_ms = 2_000;

/** What a submission comes to. */
export type Answer =
  /** Messages under the input blocks at fault (by block_id); nothing was changed. */
  | { kind: 'errors'; errors: Record<string, string> }
  /** Done: the modal closes, and `text` goes to the submitter by DM when `dm` is set. Late, the modal shows `text`. */
  | { kind: 'done'; text: string; dm: boolean; after?: () => Promise<void> }
  /** The modal is replaced by `view` (a next step, or a notice). */
  | { kind: 'view'; view: object };

export const fieldErrors = (errors: Record<string, string>): Answer => ({ kind: 'errors', errors });
export const done = (text: string, options: { dm?: boolean; after?: () => Promise<void> } = {}): Answer => ({ kind: 'done', text, dm: options.dm ?? false, after: options.after });
export const showView = (view: object): Answer => ({ kind: 'view', view });

/**
 * Runs `work` for a submission and answers Slack in time: with the answer, when the work finishes
 * within view_ack_budget_ms; else with a working view, then views.update with the result (and a
 * DM of it if the modal is gone by then). A thrown error becomes `failed(message)`, a message
 * written for people (a bug is logged and summarised).
 */
export async function answerInTime(ctx: ListenerContext, args: Args, work: () => Promise<Answer>, failed: (text: string) => Answer): Promise<void> {
  const answer = work().catch((error: unknown) => failed(humanError(ctx, error)));
  // null: the budget ran out first.
  const first = await Promise.race([answer, ctx.timers.sleep(view_ack_budget_ms).then(() => null)]);
  if (first) {
    await args.ack(first.kind === 'errors' ? { response_action: 'errors', errors: first.errors } : first.kind === 'view' ? { response_action: 'update', view: first.view as never } : undefined);
    return finish(ctx, args, first);
  }
  const title = args.view.title.text;
  await args.ack({ response_action: 'update', view: workingModal(title) as never });
  ctx.background.start(async () => {
    const late = await answer;
    const view = late.kind === 'view' ? late.view : resultModal(title, lateText(late));
    const shown = await args.client.views.update({ view_id: args.view.id, view: view as never }).then(
      () => true,
      (error: unknown) => {
        ctx.log.warn('a late modal result could not be shown; it goes by DM', { error });
        return false;
      },
    );
    if (!shown && late.kind !== 'view' && !(late.kind === 'done' && late.dm)) await dm(args, lateText(late));
    await finish(ctx, args, late);
  });
}

function lateText(answer: Exclude<Answer, { kind: 'view' }>): string {
  if (answer.kind === 'done') return answer.text;
  return `:warning: ${Object.values(answer.errors).join(' ')} Nothing was changed; open the form again to fix it.`;
}

async function finish(ctx: ListenerContext, args: Args, answer: Answer): Promise<void> {
  if (answer.kind !== 'done') return;
  if (answer.dm) await dm(args, answer.text);
  await answer.after?.().catch((error: unknown) => ctx.log.warn('follow-up of a modal submission failed', { error }));
}
