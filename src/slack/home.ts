// Publishes a person's App Home: their balance and history, and the org view for admins.
import type { WebClient } from '@slack/web-api';
import { LedgerError } from '../ledger/errors.ts';
import { isAdmin } from './admins.ts';
import { homeView, type OrgView } from './blocks/home.ts';
import { zoneOf, type SlackContext } from './context.ts';

async function orgView(ctx: SlackContext): Promise<OrgView> {
  const [report, packs, pools, tasks] = await Promise.all([
    ctx.ledger.report(),
    ctx.ledger.packInventory(),
    ctx.ledger.livePools(),
    ctx.ledger.openVendorTasks(),
  ]);
  return { report, packs, pools, tasks };
}

export async function publishHome(ctx: SlackContext, client: WebClient, userId: string): Promise<void> {
  const balance = await ctx.ledger.balance(userId).catch((error) => {
    if (error instanceof LedgerError) return null; // no seat yet
    throw error;
  });
  const history = balance ? await ctx.ledger.history(userId) : [];
  const org = (await isAdmin(ctx.ledger, ctx.adminUserIds, userId)) ? await orgView(ctx) : null;
  await client.views.publish({ user_id: userId, view: homeView({ balance, history, zone: zoneOf(ctx), org }) });
}
