// The request modal's tool (SPEC "Several tools"): opened at once with the amount and reason (a
// trigger_id lives 3 s), then, with several tools in the org, updated to name the tool the request
// is for, or to ask which when the member holds seats in two or more.
import type { WebClient } from '@slack/web-api';
import { requestModal, type RequestTools } from './blocks/request.ts';
import type { SlackContext } from './context.ts';
import { memberSeats } from './tools.ts';

/**
 * The tools a member may ask credits of: with one tool in the org, none to name (undefined);
 * otherwise their active seats' tools (a choice when two or more, with `preferred` picked first
 * when it is one of them, such as the tool of the alert they clicked from), or every tool for a
 * member without a seat.
 */
export async function requestTools(ctx: SlackContext, user: string, preferred?: string): Promise<RequestTools | undefined> {
  const tools = await ctx.ledger.loadTools();
  if (tools.size === 1) return undefined;
  const seats = (await memberSeats(ctx, user)).filter((s) => s.status === 'active');
  const choices = seats.length > 0 ? seats.map((s) => tools.get(s.tool)) : tools.list;
  if (choices.length === 1) return { tool: { key: choices[0]!.key, name: choices[0]!.name } };
  const initial = choices.some((t) => t.key === preferred) ? preferred : undefined;
  return { choose: choices.map((t) => ({ key: t.key, name: t.name })), ...(initial ? { initial } : {}) };
}

/** Opens the request modal with `triggerId` before any read, then adds its tool where there are several. */
export async function openRequestModal(
  ctx: SlackContext, client: WebClient, triggerId: string, user: string, prefill: { amount: number | null; reason: string | null }, preferred?: string,
): Promise<void> {
  const opened = await client.views.open({ trigger_id: triggerId, view: requestModal(prefill) });
  const tools = await requestTools(ctx, user, preferred);
  if (!tools || !opened.view?.id) return;
  // The member has had the modal for the few milliseconds the read took: the fields are still as prefilled.
  await client.views.update({ view_id: opened.view.id, view: requestModal(prefill, tools) });
}
