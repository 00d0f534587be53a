// Pages of the catalog, seats, packs and purchases, for the HTTP API's list routes. Keyset
// pagination: a page starts after a key or an id, never at an offset, so rows added while someone
// pages through land on a later page or not at all, and no row is shown twice or skipped.
import type { PackProduct, Plan, Profile } from '../db/schema.ts';
import { pack_product_columns, plan_columns, profile_columns, seat_columns, type LedgerContext, type SeatRow } from './context.ts';
import { notFound } from './errors.ts';
import { loadTools } from './tools.ts';

/** Items on a page when the caller does not say. */
export const list_page_items_default = 50;
/** Items on a page at most: a page is one bounded query and one bounded answer. */
export const list_page_items_max = 500;

/** One page: its items in key (or id) order, and where the next one starts (null: this is the last). */
export interface Page<T, K> {
  items: T[];
  next: K | null;
}

interface PageRequest<K> {
  /** Only rows of this tool; a LedgerError (not_found) when there is no such tool. */
  tool?: string | null;
  /** Start after this key or id (the `next` of the page before); from the first row when absent. */
  after?: K | null;
  /** Rows on the page, 1 to list_page_items_max. */
  limit: number;
}

/** Reads one row past the page: its presence says whether there is a next page. */
function pageOf<T, K>(rows: T[], limit: number, keyOf: (row: T) => K): Page<T, K> {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? keyOf(items.at(-1)!) : null };
}

/** The page size asked for, within 1 to list_page_items_max. */
const pageSize = (limit: number) => Math.min(Math.max(1, Math.trunc(limit)), list_page_items_max);

async function checkTool(ctx: LedgerContext, tool: string | null | undefined): Promise<void> {
  if (tool) (await loadTools(ctx.db, ctx.settings)).get(tool);
}

type CatalogTable = 'plans' | 'pack_products' | 'profiles';
const catalog_columns: Record<CatalogTable, string> = { plans: plan_columns, pack_products: pack_product_columns, profiles: profile_columns };

async function catalogPage<T extends { key: string }>(ctx: LedgerContext, table: CatalogTable, request: PageRequest<string>): Promise<Page<T, string>> {
  await checkTool(ctx, request.tool);
  const rows = await ctx.db.query<T>(
    `select ${catalog_columns[table]} from ${table}
     where ($1::text is null or tool_key = $1) and ($2::text is null or key > $2) order by key limit $3`,
    [request.tool ?? null, request.after ?? null, pageSize(request.limit) + 1],
  );
  return pageOf(rows, pageSize(request.limit), (row) => row.key);
}

/** Plans by key, of one tool or all. */
export const planPage = (ctx: LedgerContext, request: PageRequest<string>) => catalogPage<Plan>(ctx, 'plans', request);
/** Pack products by key, of one tool or all. */
export const packProductPage = (ctx: LedgerContext, request: PageRequest<string>) => catalogPage<PackProduct>(ctx, 'pack_products', request);
/** Profiles by key, of one tool or all. */
export const profilePage = (ctx: LedgerContext, request: PageRequest<string>) => catalogPage<Profile>(ctx, 'profiles', request);

/** A seat with who holds it. */
export type SeatItem = SeatRow & { slackId: string | null; email: string | null; name: string | null };

/** Seats by id (the order they were added), active and revoked, of one tool or all. */
export async function seatPage(ctx: LedgerContext, request: PageRequest<number>): Promise<Page<SeatItem, number>> {
  await checkTool(ctx, request.tool);
  const rows = await ctx.db.query<SeatItem>(
    `select ${seat_columns}, m.slack_id as "slackId", m.email, m.name
     from seats s join members m on m.id = s.member_id
     where ($1::text is null or s.tool_key = $1) and ($2::int4 is null or s.id > $2) order by s.id limit $3`,
    [request.tool ?? null, request.after ?? null, pageSize(request.limit) + 1],
  );
  return pageOf(rows, pageSize(request.limit), (row) => row.id);
}

/** A pack, its product's tool, and who holds it. */
export interface PackItem {
  id: number;
  product: string;
  tool: string;
  purchaseId: number;
  /** `free`: in inventory and assignable now; `assigned`: on a seat; `expired`: a one-time pack in inventory past its expiry. */
  status: 'free' | 'assigned' | 'expired';
  seatId: number | null;
  slackId: string | null;
  email: string | null;
  assignedAt: Date | null;
  /** A one-time pack's expiry, fixed when it was first assigned. */
  expiresAt: Date | null;
}

/**
 * Packs by id (the order they were bought), of one tool or all, of one pack product or all;
 * `free` true gives the packs free to assign now, false the others (assigned or expired).
 * LedgerErrors: not_found for a tool or pack product that does not exist.
 */
export async function packPage(
  ctx: LedgerContext, request: PageRequest<number> & { product?: string | null; free?: boolean | null },
): Promise<Page<PackItem, number>> {
  await checkTool(ctx, request.tool);
  if (request.product) {
    const [product] = await ctx.db.query(`select 1 from pack_products where key = $1`, [request.product]);
    if (!product) throw notFound(`pack product ${request.product} is not in the catalog`);
  }
  const rows = await ctx.db.query<PackItem>(
    `select k.id, k.product_key as product, pp.tool_key as tool, k.purchase_id as "purchaseId",
            case when k.seat_id is not null then 'assigned' when k.expires_at <= $6 then 'expired' else 'free' end as status,
            k.seat_id as "seatId", m.slack_id as "slackId", m.email, k.assigned_at as "assignedAt", k.expires_at as "expiresAt"
     from packs k join pack_products pp on pp.key = k.product_key
     left join seats s on s.id = k.seat_id left join members m on m.id = s.member_id
     where ($1::text is null or pp.tool_key = $1) and ($2::text is null or k.product_key = $2)
       and ($3::boolean is null or $3 = (k.seat_id is null and (k.expires_at is null or k.expires_at > $6)))
       and ($4::int4 is null or k.id > $4)
     order by k.id limit $5`,
    [request.tool ?? null, request.product ?? null, request.free ?? null, request.after ?? null, pageSize(request.limit) + 1, ctx.now()],
  );
  return pageOf(rows, pageSize(request.limit), (row) => row.id);
}

/** A purchase with its product's tool. */
export interface PurchaseItem {
  id: number;
  product: string;
  tool: string;
  quantity: number;
  reference: string | null;
  /** Price of one pack as a decimal string (numeric(14,4)), or null when unknown. */
  unitCost: string | null;
  purchasedAt: Date;
}

/** Purchases by id (the order they were recorded), of one tool or all. */
export async function purchasePage(ctx: LedgerContext, request: PageRequest<number>): Promise<Page<PurchaseItem, number>> {
  await checkTool(ctx, request.tool);
  const rows = await ctx.db.query<PurchaseItem>(
    `select p.id, p.product_key as product, pp.tool_key as tool, p.quantity, p.reference, p.unit_cost::text as "unitCost",
            p.purchased_at as "purchasedAt"
     from purchases p join pack_products pp on pp.key = p.product_key
     where ($1::text is null or pp.tool_key = $1) and ($2::int4 is null or p.id > $2) order by p.id limit $3`,
    [request.tool ?? null, request.after ?? null, pageSize(request.limit) + 1],
  );
  return pageOf(rows, pageSize(request.limit), (row) => row.id);
}
