// Vendor-console tasks: creditdesk is a shadow ledger, so every seat or pack change made here
// leaves the admin a task to repeat it in the vendor's console, listed until marked done.
import type { Queryable } from '../db/client.ts';
import type { LedgerContext } from './context.ts';
import { conflict, notFound } from './errors.ts';
import type { Tool, Tools } from './tools.ts';

export async function addVendorTask(tx: Queryable, text: string, memberId: number | null, now: Date, toolKey: string | null = null): Promise<void> {
  await tx.query(`insert into vendor_tasks (text, member_id, created_at, tool_key) values ($1, $2, $3, $4)`, [text, memberId, now, toolKey]);
}

/** Where the admin repeats a change: "in the vendor console", naming the tool once there are several. */
export const inConsole = (tools: Tools, tool: Tool) => (tools.size > 1 ? `in the vendor console of ${tool.name}` : 'in the vendor console');

export interface VendorTask {
  id: number;
  text: string;
  createdAt: Date;
  doneAt: Date | null;
  doneBy: string | null;
}

export async function openVendorTasks(ctx: LedgerContext, limit = 50): Promise<VendorTask[]> {
  return ctx.db.query<VendorTask>(
    `select id, text, created_at as "createdAt", done_at as "doneAt", done_by as "doneBy"
     from vendor_tasks where done_at is null order by id limit $1`,
    [limit],
  );
}

/** Marks a task done once; a second click is told who did it. */
export async function completeVendorTask(ctx: LedgerContext, id: number, by: string): Promise<VendorTask> {
  const [done] = await ctx.db.query<VendorTask>(
    `update vendor_tasks set done_at = $2, done_by = $3 where id = $1 and done_at is null
     returning id, text, created_at as "createdAt", done_at as "doneAt", done_by as "doneBy"`,
    [id, ctx.now(), by],
  );
  if (done) return done;
  const [existing] = await ctx.db.query<VendorTask>(`select id, done_by as "doneBy" from vendor_tasks where id = $1`, [id]);
  if (!existing) throw notFound(`no vendor task ${id}`);
  throw conflict(`task ${id} was already marked done by ${existing.doneBy}`);
}
