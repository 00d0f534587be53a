// Publishes a person's App Home: their balance in each tool and their history, and for admins the
// org view and any further admin sections. A further section (the vendor connectors' runs, say) is a
// builder added to admin_home_sections: it reads what it needs and returns its blocks.
import type { WebClient } from '@slack/web-api';
import { isAdmin } from './admins.ts';
import type { Block } from './blocks/common.ts';
import { homeView, type OrgView } from './blocks/home.ts';
import { zoneOf, type SlackContext } from './context.ts';
import { memberSeats, toolNames } from './tools.ts';
import type { Tools } from '../ledger/tools.ts';
import { connectorStatuses } from '../connectors/status.ts';
import { connectorBlocks } from './blocks/connectors.ts';

/**
 * A section of an admin's App Home after the org view: the blocks it shows, each of its lists
 * within Slack's limits. The Home keeps at least 32 of its 100 blocks for these sections together;
 * a section that does not fit in what is left is left out whole.
 */
export type AdminHomeSection = (ctx: SlackContext) => Promise<Block[]>;

/** Blocks the Home keeps for the admin sections together, whatever the org view takes. */
const admin_sections_blocks_min = 32;

/** The admin sections after the org view, in the order they are shown: the vendors' pulls. */
export const admin_home_sections: AdminHomeSection[] = [
  async (ctx) => connectorBlocks(await connectorStatuses(ctx.ledger.ctx.db), zoneOf(ctx), admin_sections_blocks_min),
];

async function orgView(ctx: SlackContext, tools: Tools, productTools: ReadonlyMap<string, string>): Promise<OrgView> {
  const [reports, packs, pools, tasks] = await Promise.all([
    Promise.all(tools.list.map((tool) => ctx.ledger.report(undefined, tool.key))),
    ctx.ledger.packInventory(),
    ctx.ledger.livePools(),
    ctx.ledger.openVendorTasks(),
  ]);
  return { reports, packs, pools, tasks, productTools };
}

export async function publishHome(ctx: SlackContext, client: WebClient, userId: string): Promise<void> {
  const tools = await ctx.ledger.loadTools();
  const names = toolNames(tools);
  const [balances, admin, catalog] = await Promise.all([
    memberSeats(ctx, userId),
    isAdmin(ctx.ledger, ctx.adminUserIds, userId),
    names.several ? ctx.ledger.catalog() : null,
  ]);
  const history = balances.length > 0 ? await ctx.ledger.history(userId) : [];
  const planNames = new Map(catalog?.plans.map((p) => [p.key, p.name]));
  const productTools = new Map(catalog?.products.map((p) => [p.key, p.toolKey]));
  const org = admin ? await orgView(ctx, tools, productTools) : null;
  const adminSections = admin ? await Promise.all(admin_home_sections.map((build) => build(ctx))) : [];
  const view = homeView({ balances, history, zone: zoneOf(ctx), org, names, planNames, adminSections });
  await client.views.publish({ user_id: userId, view });
}
