// /credits: acknowledged at once, then parsed and answered ephemerally through response_url.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { LedgerError } from '../../../ledger/errors.ts';
import { isAdmin, not_admin_text } from '../../admins.ts';
import { balanceMessage, historyMessage, recordedTitle } from '../../blocks/balance.ts';
import { helpMessage } from '../../blocks/help.ts';
import { requestModal } from '../../blocks/request.ts';
import { adminMenu, noticeModal } from '../../blocks/admin.ts';
import { section } from '../../blocks/common.ts';
import { humanError, inSlackWords, zoneOf, type SlackContext } from '../../context.ts';
import { parseCommand } from '../../parse/command.ts';
import { syncWithVendor } from '../../sync.ts';
import { buildAndSendReport } from '../../report.ts';
import { openThenFill } from '../open.ts';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

const no_seat_text = 'You have no seat in creditdesk yet, so there are no credits to show. An admin can add one with /credits admin.';

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
      if (parsed.kind === 'request') return void (await client.views.open({ trigger_id: command.trigger_id, view: requestModal(parsed) as never }));
      if (parsed.kind === 'admin') {
        return await openThenFill(ctx, client, { trigger_id: command.trigger_id }, 'creditdesk admin', async () =>
          (await isAdmin(ctx.ledger, ctx.adminUserIds, user)) ? adminMenu() : noticeModal('Not allowed', not_admin_text),
        );
      }
      const admin = await isAdmin(ctx.ledger, ctx.adminUserIds, user);
      const zone = zoneOf(ctx);
      switch (parsed.kind) {
        case 'balance':
          return await reply(balanceMessage(await ctx.ledger.balance(user), zone));
        case 'history':
          return await reply(historyMessage(await ctx.ledger.history(user), zone));
        case 'help':
          return await reply(helpMessage({ isAdmin: admin, selfReporting: ctx.selfReporting }));
        case 'invalid':
          return await reply(helpMessage({ isAdmin: admin, selfReporting: ctx.selfReporting, error: parsed.error }));
        case 'log':
        case 'sync': {
          if (!ctx.selfReporting) {
            return await reply(helpMessage({ isAdmin: admin, selfReporting: false, error: 'self-reporting is off in this workspace; an admin can turn it on' }));
          }
          if (parsed.kind === 'log') {
            // Without a seat the balance read throws, and the member hears it in plain words below.
            await ctx.ledger.balance(user);
            // Slack retries a slow command with the same trigger_id: as the event id it applies once.
            const outcome = await ctx.ledger.recordUsage({ id: `slack-log:${command.trigger_id}`, user, credits: parsed.amount, feature: parsed.feature, source: 'slack' });
            if (outcome.status === 'rejected') {
              const reason = inSlackWords(outcome.reason);
              return await reply({ text: reason, blocks: [section(`:warning: ${reason}`)] });
            }
            const balance = await ctx.ledger.balance(user);
            return await reply(balanceMessage(balance, zone, recordedTitle(parsed.amount, parsed.feature)));
          }
          // Slack's retries repeat the trigger_id: as the sync's key, it is applied once.
          const result = await syncWithVendor(ctx, client, user, parsed.remaining, `slack-sync:${command.trigger_id}`);
          return await reply({ text: result, blocks: [section(result)] });
        }
        case 'member':
        case 'report': {
          if (!admin) return await reply({ text: not_admin_text, blocks: [section(not_admin_text)] });
          if (parsed.kind === 'member') {
            return await reply(balanceMessage(await ctx.ledger.balance(parsed.userId), zone, `<@${parsed.userId}>'s AI credits`, false));
          }
          return await reply(await buildAndSendReport(ctx, client, user, parsed.cycle ?? undefined));
        }
      }
    } catch (error) {
      // A member without a seat is the common case: said in Slack's words, with no raw id or API route.
      const seatMissing = error instanceof LedgerError && error.code === 'not_found' && parsed.kind !== 'report';
      const text = !seatMissing ? humanError(ctx, error) : parsed.kind === 'member' ? `<@${parsed.userId}> has no seat in creditdesk yet; add one with /credits admin → Add or restore a seat.` : no_seat_text;
      await reply({ text, blocks: [section(`:warning: ${text}`)] }).catch(() => {});
    }
  };
}
