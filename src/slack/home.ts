// Publishes a person's App Home: their balance and history, and the org view for admins.
import type { WebClient } from '@slack/web-api';
import { LedgerError } from '../ledger/errors.ts';
import { isAdmin } from './admins.ts';
import { homeView, type OrgView } from './blocks/home.ts';
import { connectorBlocks } from './blocks/connectors.ts';
import { view_blocks_max } from './blocks/limits.ts';
import { connectorStatuses } from '../connectors/status.ts';
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
  const view = homeView({ balance, history, zone: zoneOf(ctx), org });
  // Admins also see the vendors' pulls, in whatever room the Home has left.
  if (org) view.blocks.push(...connectorBlocks(await connectorStatuses(ctx.ledger.ctx.db), zoneOf(ctx), view_blocks_max - view.blocks.length));
  await client.views.publish({ user_id: userId, view });
}
