// The ledger's public face: everything Slack, the HTTP API, the jobs and the CLI may ask of it.
// No Slack types and no HTTP types here; each function takes the context's db and clock.
import type { LedgerContext } from './context.ts';
import { adjust, type AdjustmentInput } from './adjust.ts';
import { getBalance, getBalances, getHistory } from './balance.ts';
import { listCatalog, livePools, putPackProduct, putPlan, putProfile, type PackProductInput, type PlanInput, type ProfileInput } from './catalog.ts';
import { UsageIngest } from './ingest.ts';
import { assignPack, packInventory, packProductsFree, recordPurchase, unassignPack, type AssignPackInput, type PurchaseInput } from './packs.ts';
import { buildReport } from './report.ts';
import { approveRequest, denyRequest, fileRequest, loadRequest, rememberRequestMessage, type RequestGrant } from './requests.ts';
import { expireGrants, resetDueSeats, resetPools } from './reset.ts';
import { previewRevoke, putSeat, revokeSeat, type SeatInput } from './seats.ts';
import { completeVendorTask, openVendorTasks } from './tasks.ts';
import type { UsageEvent, UsageOutcome } from './usage.ts';
import { verify } from './verify.ts';
import { isPromotedAdmin, promoteAdmin } from './members.ts';
import { listTools, loadTools, putTool, type ToolInput } from './tools.ts';
import { applyOnce, pruneAppliedKeys, type Applied, type Plain } from './once.ts';
import { confirmCorrection, dismissCorrection, loadCorrection, rememberCorrectionMessage, reportSync, type SyncInput } from './sync.ts';
import { invalid } from './errors.ts';
import { unstorableTextIn } from './text.ts';

export type Ledger = ReturnType<typeof createLedger>;
/** The ledger's functions as a keyed write sees them: each joins the key's transaction. */
export type LedgerOperations = ReturnType<typeof ledgerOperations>;

/** Usage events are checked one by one (usage.ts), so that one bad event fails alone, not its batch. */
const checked_per_event = new Set(['recordUsage', 'recordUsageBatch', 'authorize']);

/**
 * The ledger with every function refusing, as a LedgerError (invalid, naming the field), any text
 * argument the database cannot store: no boundary that forgot to check can cause a database error.
 */
function refusingUnstorableText<T extends Record<string, unknown>>(ledger: T): T {
  const guarded = Object.entries(ledger).map(([name, fn]) => {
    if (typeof fn !== 'function' || checked_per_event.has(name)) return [name, fn];
    return [
      name,
      (...args: unknown[]) => {
        for (const arg of args) {
          const problem = unstorableTextIn(arg);
          if (problem) return Promise.reject(invalid(problem));
        }
        return fn(...args);
      },
    ];
  });
  return Object.fromEntries(guarded) as T;
}

export function createLedger(ctx: LedgerContext) {
  return {
    ...ledgerOperations(ctx),
    /**
     * Applies `work` once per idempotency key (an opaque string, e.g. a Slack trigger id): the
     * ledger functions it calls on the `ledger` it is given commit together with the key, and a
     * repeat of the key, concurrent or later, gets the first outcome (`replayed: true`) and
     * changes nothing. The outcome must be plain JSON data. See once.ts.
     */
    once: <T>(key: string, work: (ledger: LedgerOperations) => Promise<T & Plain<T>>): Promise<Applied<T>> =>
      applyOnce(ctx, key, (inTransaction) => work(ledgerOperations(inTransaction))),
    /** Deletes idempotency keys past their retention (30 days, see once.ts); how many. Run daily by the jobs. */
    pruneAppliedKeys: (now: Date = ctx.now()) => pruneAppliedKeys(ctx, now),
  };
}

function ledgerOperations(ctx: LedgerContext) {
  const ingest = new UsageIngest(ctx);
  return refusingUnstorableText({
    ctx,
    recordUsage: (event: UsageEvent): Promise<UsageOutcome> => ingest.submit(event, 'record'),
    recordUsageBatch: (events: readonly UsageEvent[]) => ingest.submitBatch(events, 'record'),
    authorize: (event: UsageEvent): Promise<UsageOutcome> => ingest.submit(event, 'enforce'),
    /** One seat's balance: the tool named, or the org's only one (or the member's only seat). */
    balance: (user: string, tool?: string | null) => getBalance(ctx, user, tool),
    /** Every seat's balance of a member: the first one's fields, and all of them in `tools`. */
    balances: (user: string) => getBalances(ctx, user),
    history: (user: string, limit?: number, tool?: string | null) => getHistory(ctx, user, limit, tool ?? null),
    putTool: (key: string, input: ToolInput) => putTool(ctx, key, input),
    tools: () => listTools(ctx),
    /** The tools with lookups (pick, get) for callers that decide by tool. */
    loadTools: () => loadTools(ctx.db, ctx.settings),
    putPlan: (key: string, input: PlanInput) => putPlan(ctx, key, input),
    putPackProduct: (key: string, input: PackProductInput) => putPackProduct(ctx, key, input),
    putProfile: (key: string, input: ProfileInput) => putProfile(ctx, key, input),
    catalog: () => listCatalog(ctx),
    putSeat: (user: string, input: SeatInput) => putSeat(ctx, user, input),
    revokeSeat: (user: string, actor?: string | null, tool?: string | null) => revokeSeat(ctx, user, actor ?? null, tool),
    previewRevoke: (user: string, tool?: string | null) => previewRevoke(ctx, user, tool),
    recordPurchase: (input: PurchaseInput) => recordPurchase(ctx, input),
    assignPack: (input: AssignPackInput) => assignPack(ctx, input),
    unassignPack: (input: { packId: number; actor?: string | null }) => unassignPack(ctx, input),
    adjust: (input: AdjustmentInput) => adjust(ctx, input),
    packProductsFree: () => packProductsFree(ctx),
    packInventory: () => packInventory(ctx),
    livePools: () => livePools(ctx),
    isPromotedAdmin: (slackId: string) => isPromotedAdmin(ctx.db, slackId),
    promoteAdmin: (slackId: string) => promoteAdmin(ctx.db, slackId),
    fileRequest: (slackId: string, credits: number, reason: string | null, tool?: string | null) => fileRequest(ctx, slackId, credits, reason, tool ?? null),
    request: (id: number) => loadRequest(ctx.db, id),
    rememberRequestMessage: (id: number, channelId: string, messageTs: string) => rememberRequestMessage(ctx, id, channelId, messageTs),
    approveRequest: (input: { id: number; by: string; grant: RequestGrant }) => approveRequest(ctx, input),
    denyRequest: (input: { id: number; by: string }) => denyRequest(ctx, input),
    report: (cycle?: string, tool?: string | null) => buildReport(ctx, cycle, tool),
    openVendorTasks: () => openVendorTasks(ctx),
    completeVendorTask: (id: number, by: string) => completeVendorTask(ctx, id, by),
    /** A member's sync, once per key: usage below creditdesk's figure, a pending correction above it. */
    reportSync: (input: SyncInput) => reportSync(ctx, input),
    syncCorrection: (id: number) => loadCorrection(ctx.db, id),
    rememberCorrectionMessage: (id: number, channelId: string, messageTs: string) => rememberCorrectionMessage(ctx, id, channelId, messageTs),
    confirmCorrection: (input: { id: number; by: string }) => confirmCorrection(ctx, input),
    dismissCorrection: (input: { id: number; by: string }) => dismissCorrection(ctx, input),
    /** The cycle jobs, in the order a boundary needs them. */
    runCycleJobs: async (now: Date = ctx.now()) => ({
      seats: await resetDueSeats(ctx, now),
      pools: await resetPools(ctx, now),
      expired: await expireGrants(ctx, now),
    }),
    verify: () => verify(ctx),
  });
}

export type { UsageEvent, UsageOutcome } from './usage.ts';
export type { LedgerContext, LedgerSettings } from './context.ts';
export type { Tool, ToolInput } from './tools.ts';
export type { CreditRequest, Decision, RequestGrant, RequestOutcomePayload } from './requests.ts';
export type { Applied } from './once.ts';
export type { CorrectionDecision, SyncCorrection, SyncOutcome } from './sync.ts';
export { LedgerError } from './errors.ts';
