// /credits: acknowledged at once, then parsed and answered ephemerally through response_url. With
// several tools a command may name one; one that does not means the member's only seat (sync: their
// only seat in a tool that asks for syncs), and the balance shows a block per tool.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { LedgerError } from '../../../ledger/errors.ts';
import type { Balance } from '../../../ledger/balance.ts';
import type { Tools } from '../../../ledger/tools.ts';
import { isAdmin, not_admin_text } from '../../admins.ts';
import { balancesMessage, recordedTitle, historyMessage } from '../../blocks/balance.ts';
import { helpMessage } from '../../blocks/help.ts';
import { adminMenu, noticeModal } from '../../blocks/admin.ts';
import { section } from '../../blocks/common.ts';
import { truncate } from '../../blocks/limits.ts';
import { humanErrorMrkdwn, reasonMrkdwn, zoneOf, type SlackContext } from '../../context.ts';
import { counted } from '../../../words.ts';
import { escapeMrkdwn } from '../../format.ts';
import { parseCommand, type CreditsCommand } from '../../parse/command.ts';
import { openRequestModal } from '../../request.ts';
import { syncWithVendor } from '../../sync.ts';
import { buildAndSendReport } from '../../report.ts';
import { commandTool, knownTool, memberSeats, syncDefault, toolNames, type ToolNames } from '../../tools.ts';
import { openThenFill } from '../open.ts';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

const no_seat_text = 'You have no seat in creditdesk yet, so there are no credits to show. An admin can add one with /credits admin.';
/** Characters of the tool keys a "more tools" line lists. */
const tool_keys_chars_shown_max = 1_000;

export function creditsCommand(ctx: SlackContext) {
  return async ({ command, ack, respond, client, context }: Args): Promise<void> => {
    await ack();
    const user = command.user_id;
    const reply = async (message: { text: string; blocks: unknown[] }): Promise<void> => {
      await respond({ response_type: 'ephemeral', ...message } as never);
    };
    const parsed = parseCommand(command.text);
    // A trigger_id works once: Slack's retry of a command that opens a modal can only fail, and
    // would show the member an error after the first attempt opened it.
    if (context.retryNum && (parsed.kind === 'request' || parsed.kind === 'admin')) return;
    try {
      // The trigger_id lives 3 s: the request modal opens before anything is looked up, and the
      // admin menu opens as a loading view that is filled in once admin rights are checked.
      if (parsed.kind === 'request') return await openRequestModal(ctx, client, command.trigger_id, user, parsed);
      if (parsed.kind === 'admin') {
        return await openThenFill(ctx, client, { trigger_id: command.trigger_id }, 'creditdesk admin', async () =>
          (await isAdmin(ctx.ledger, ctx.adminUserIds, user)) ? adminMenu() : noticeModal('Not allowed', not_admin_text),
        );
      }
      const [admin, tools] = await Promise.all([isAdmin(ctx.ledger, ctx.adminUserIds, user), ctx.ledger.loadTools()]);
      const names = toolNames(tools);
      const zone = zoneOf(ctx);
      const help = (error?: string) => helpMessage({ isAdmin: admin, selfReporting: ctx.selfReporting, error, tools: names.several ? tools.list : undefined });
      switch (parsed.kind) {
        case 'balance':
          return await reply(await balanceReply(ctx, tools, names, user, parsed.tool, {}));
        case 'history':
          return await reply(historyMessage(await ctx.ledger.history(user), zone, names));
        case 'help':
          return await reply(help());
        case 'invalid':
          return await reply(help(parsed.error));
        case 'log':
        case 'sync': {
          if (!ctx.selfReporting) {
            return await reply(helpMessage({ isAdmin: admin, selfReporting: false, error: 'self-reporting is off in this workspace; an admin can turn it on' }));
          }
          if (parsed.kind === 'log') {
            const tool = await commandTool(ctx, tools, user, parsed.tool, '/credits log <tool> <amount>');
            // Without a seat the balance read throws, and the member hears it in plain words below.
            await ctx.ledger.balance(user, tool?.key);
            // Slack retries a slow command with the same trigger_id: as the event id it applies once.
            const outcome = await ctx.ledger.recordUsage({
              id: `slack-log:${command.trigger_id}`, user, credits: parsed.amount, feature: parsed.feature, source: 'slack', ...(tool ? { tool: tool.key } : {}),
            });
            if (outcome.status === 'rejected') {
              const reason = reasonMrkdwn(outcome.reason);
              return await reply({ text: reason, blocks: [section(`:warning: ${reason}`)] });
            }
            const balance = await ctx.ledger.balance(user, tool?.key);
            const title = recordedTitle(parsed.amount, parsed.feature, names.several ? balance.unit : undefined);
            return await reply(balancesMessage([balance], zone, { title, names, planNames: await planNames(ctx, names) }));
          }
          const tool = await commandTool(ctx, tools, user, parsed.tool, '/credits sync <tool> <remaining>', syncDefault(tools));
          // Slack's retries repeat the trigger_id: as the sync's key, it is applied once.
          const named = tool && names.several ? { name: tool.name, unit: tool.unit } : null;
          const result = escapeMrkdwn(await syncWithVendor(ctx, client, user, parsed.remaining, `slack-sync:${command.trigger_id}`, tool?.key ?? null, named));
          return await reply({ text: result, blocks: [section(result)] });
        }
        case 'member':
        case 'report': {
          if (!admin) return await reply({ text: not_admin_text, blocks: [section(not_admin_text)] });
          if (parsed.kind === 'member') {
            const title = names.several ? `<@${parsed.userId}>'s credits` : `<@${parsed.userId}>'s AI credits`;
            const moreTools = (hidden: readonly Balance[]) =>
              `and ${counted(hidden.length, 'more tool')}: \`/credits @someone &lt;tool&gt;\` shows any one (${truncate(hidden.map((b) => escapeMrkdwn(b.tool)).join(', '), tool_keys_chars_shown_max)})`;
            return await reply(await balanceReply(ctx, tools, names, parsed.userId, parsed.tool, { title, buttons: false, moreTools }));
          }
          return await reply(await buildAndSendReport(ctx, client, user, parsed.cycle ?? undefined, parsed.tool));
        }
      }
    } catch (error) {
      await reply(failure(ctx, parsed, error)).catch(() => {});
    }
  };
}

/** What a command that failed says, as mrkdwn: a member without a seat (the common case) in Slack's words, with no raw id or API route. */
function failure(ctx: SlackContext, parsed: CreditsCommand, error: unknown): { text: string; blocks: unknown[] } {
  const seatMissing = error instanceof LedgerError && error.code === 'not_found' && parsed.kind !== 'report';
  const tool = 'tool' in parsed && parsed.tool ? ` in ${escapeMrkdwn(parsed.tool)}` : '';
  const text = !seatMissing
    ? humanErrorMrkdwn(ctx, error)
    : parsed.kind === 'member'
      ? `<@${parsed.userId}> has no seat${tool || ' in creditdesk yet'}; add one with /credits admin → Add or restore a seat.`
      : tool
        ? `You have no seat${tool}. \`/credits\` shows the tools you have seats in.`
        : no_seat_text;
  return { text, blocks: [section(`:warning: ${text}`)] };
}

/** Plan names for the balance's heads where tools are named; none needed with one tool. */
async function planNames(ctx: SlackContext, names: ToolNames): Promise<ReadonlyMap<string, string>> {
  if (!names.several) return new Map();
  return new Map((await ctx.ledger.catalog()).plans.map((p) => [p.key, p.name]));
}

/** A member's balance: in the tool named, or in every tool they hold a seat in. LedgerError not_found when they hold none. */
async function balanceReply(
  ctx: SlackContext, tools: Tools, names: ToolNames, user: string, named: string | undefined,
  options: { title?: string; buttons?: boolean; moreTools?: (hidden: readonly Balance[]) => string },
) {
  let balances: Balance[];
  if (named) {
    balances = [await ctx.ledger.balance(user, knownTool(tools, named).key)];
  } else {
    balances = await memberSeats(ctx, user);
    // No seat anywhere: the balance read says so, as it always has.
    if (balances.length === 0) balances = [await ctx.ledger.balance(user)];
  }
  return balancesMessage(balances, zoneOf(ctx), { ...options, names, planNames: await planNames(ctx, names) });
}

