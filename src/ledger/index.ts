// The ledger's public face: everything Slack, the HTTP API, the jobs and the CLI may ask of it.
// No Slack types and no HTTP types here; each function takes the context's db and clock.
import type { LedgerContext } from './context.ts';
import { adjust, type AdjustmentInput } from './adjust.ts';
import { getBalance, getHistory } from './balance.ts';
import { listCatalog, putPackProduct, putPlan, putProfile, type PackProductInput, type PlanInput, type ProfileInput } from './catalog.ts';
import { UsageIngest } from './ingest.ts';
import { assignPack, recordPurchase, unassignPack, type PurchaseInput } from './packs.ts';
import { buildReport } from './report.ts';
import { expireGrants, resetDueSeats, resetPools } from './reset.ts';
import { previewRevoke, putSeat, revokeSeat, type SeatInput } from './seats.ts';
import { completeVendorTask, openVendorTasks } from './tasks.ts';
import type { UsageEvent, UsageOutcome } from './usage.ts';
import { verify } from './verify.ts';

export type Ledger = ReturnType<typeof createLedger>;

export function createLedger(ctx: LedgerContext) {
  const ingest = new UsageIngest(ctx);
  return {
    ctx,
    recordUsage: (event: UsageEvent): Promise<UsageOutcome> => ingest.submit(event, 'record'),
    recordUsageBatch: (events: readonly UsageEvent[]) => ingest.submitBatch(events, 'record'),
    authorize: (event: UsageEvent): Promise<UsageOutcome> => ingest.submit(event, 'enforce'),
    balance: (user: string) => getBalance(ctx, user),
    history: (user: string, limit?: number) => getHistory(ctx, user, limit),
    putPlan: (key: string, input: PlanInput) => putPlan(ctx, key, input),
    putPackProduct: (key: string, input: PackProductInput) => putPackProduct(ctx, key, input),
    putProfile: (key: string, input: ProfileInput) => putProfile(ctx, key, input),
    catalog: () => listCatalog(ctx),
    putSeat: (user: string, input: SeatInput) => putSeat(ctx, user, input),
    revokeSeat: (user: string, actor?: string | null) => revokeSeat(ctx, user, actor ?? null),
    previewRevoke: (user: string) => previewRevoke(ctx, user),
    recordPurchase: (input: PurchaseInput) => recordPurchase(ctx, input),
    assignPack: (input: { product: string; user: string; actor?: string | null }) => assignPack(ctx, input),
    unassignPack: (input: { packId: number; actor?: string | null }) => unassignPack(ctx, input),
    adjust: (input: AdjustmentInput) => adjust(ctx, input),
    report: (cycle?: string) => buildReport(ctx, cycle),
    openVendorTasks: () => openVendorTasks(ctx),
    completeVendorTask: (id: number, by: string) => completeVendorTask(ctx, id, by),
    /** The cycle jobs, in the order a boundary needs them. */
    runCycleJobs: async (now: Date = ctx.now()) => ({
      seats: await resetDueSeats(ctx, now),
      pools: await resetPools(ctx, now),
      expired: await expireGrants(ctx, now),
    }),
    verify: () => verify(ctx),
  };
}

export type { UsageEvent, UsageOutcome } from './usage.ts';
export type { LedgerContext, LedgerSettings } from './context.ts';
export { LedgerError } from './errors.ts';
