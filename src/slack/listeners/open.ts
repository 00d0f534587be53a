// Opening a modal that needs the database: a trigger_id works once and only for 3 s, so a loading
// view is opened (or pushed) with it at once and filled in with views.update when the reads are done.
import type { WebClient } from '@slack/web-api';
import { loadingModal, resultModal } from '../blocks/progress.ts';
import { humanError, type SlackContext } from '../context.ts';

/**
 * Opens a loading modal titled `title` (≤ 24 characters) with `trigger.trigger_id`, pushed onto
 * the open modal when `trigger.push`, then replaces it with what `fill` returns; when `fill`
 * fails, the modal says what went wrong instead of loading forever.
 */
export async function openThenFill(
  ctx: SlackContext,
  client: WebClient,
  trigger: { trigger_id: string; push?: boolean },
  title: string,
  fill: () => Promise<object>,
): Promise<void> {
  const loading = { trigger_id: trigger.trigger_id, view: loadingModal(title) as never };
  const opened = trigger.push ? await client.views.push(loading) : await client.views.open(loading);
  const viewId = opened.view?.id;
  if (!viewId) throw new Error('Slack opened a modal without telling its view id');
  let view: object;
  try {
    view = await fill();
  } catch (error) {
    view = resultModal(title, `:warning: ${humanError(ctx, error)}`);
  }
  await client.views.update({ view_id: viewId, view: view as never });
}
