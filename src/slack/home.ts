// Publishes a person's App Home: their balance and history, and the org view for admins.
import type { WebClient } from '@slack/web-api';
import { LedgerError } from '../ledger/errors.ts';
import { isAdmin } from './admins.ts';
import { homeView, type OrgView } from './blocks/home.ts';
import { memberZone, type SlackContext } from './context.ts';

async function orgView(ctx: SlackContext): Promise<OrgView> {
  const db = ctx.ledger.ctx.db;
  const [report, packs, pools, tasks] = await Promise.all([
    ctx.ledger.report(),
    // Assigned packs carry their number and holder: the number is what "Unassign a pack" asks for.
    db.query<OrgView['packs'][number]>(
      `select k.product_key as product, count(*) filter (where k.seat_id is null)::int8 as free, count(k.seat_id)::int8 as assigned,
              coalesce(json_agg(json_build_object('id', k.id, 'slackId', m.slack_id, 'email', m.email) order by k.id)
                       filter (where k.seat_id is not null), '[]') as holders
       from packs k left join seats s on s.id = k.seat_id left join members m on m.id = s.member_id
       group by k.product_key order by k.product_key`,
    ),
    db.query<{ profile: string; amount: number; remaining: number }>(
      `select profile_key as profile, amount, remaining from grants where source = 'pool' and starts_at <= $1 and expires_at > $1 order by profile_key`,
      [ctx.ledger.ctx.now()],
    ),
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
  await client.views.publish({ user_id: userId, view: homeView({ balance, history, zone: await memberZone(ctx, client, userId), org }) as never });
}
