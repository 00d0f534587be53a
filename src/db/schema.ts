// The one description of creditdesk's data. drizzle-kit generates migrations/ from this file;
// row types elsewhere are derived from it with $inferSelect.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  serial,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const credits = (name: string) => bigint(name, { mode: 'number' });
const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const members = pgTable(
  'members',
  {
    id: serial('id').primaryKey(),
    slackId: text('slack_id'),
    email: text('email'),
    name: text('name'),
    /** Attributes from the vendor export (department, user groups) for chargeback. */
    attributes: jsonb('attributes').$type<Record<string, string>>().notNull().default({}),
    /** Promoted by an admin; the ADMIN_USER_IDS are admins without this flag. */
    isAdmin: boolean('is_admin').notNull().default(false),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('members_slack_id_key').on(t.slackId),
    uniqueIndex('members_email_key').on(sql`lower(${t.email})`),
  ],
);

/**
 * A tool: one vendor's credit system the org pays for (SPEC "Words"), with its own unit, cycle
 * anchor day and time zone, catalog, pools and overage budget. A database created before tools
 * existed holds one tool, `default`, that owns everything it had.
 */
export const tools = pgTable('tools', {
  key: text('key').primaryKey(),
  name: text('name').notNull(),
  /** What people call one unit of this tool: "credits", "premium requests". */
  unit: text('unit').notNull().default('credits'),
  /** IANA zone of this tool's cycles and daily limits; null follows ORG_TIMEZONE. */
  timeZone: text('time_zone'),
  /** Default anchor day of this tool's seats, and the day its pools and budget renew; null follows CYCLE_ANCHOR_DAY. */
  anchorDay: smallint('anchor_day'),
  /** Pay-as-you-go credits the org allows per tool cycle beyond own credits and pools; null allows none in enforce mode. */
  overageBudget: credits('overage_budget'),
  /** Price of one overage credit in the org's currency, for reports. */
  overageUnitCost: numeric('overage_unit_cost', { precision: 14, scale: 6 }),
  /** Members with a seat get a weekly DM asking what the vendor shows (vendors with no per-user data). */
  syncNudge: boolean('sync_nudge').notNull().default(false),
  /** Start of the tool cycle whose budget grant has been issued: the reset's compare-and-set key. */
  cycleStart: instant('cycle_start'),
  createdAt: instant('created_at').notNull().defaultNow(),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

export const plans = pgTable('plans', {
  key: text('key').primaryKey(),
  toolKey: text('tool_key').notNull().references(() => tools.key, { onUpdate: 'cascade' }),
  name: text('name').notNull(),
  credits: credits('credits').notNull(),
  /** Credits a member may use per day, in the tool's zone (Figma's View seats: 150); null means no daily limit. */
  dailyLimit: credits('daily_limit'),
  /** Credits that may roll into the next cycle; null means no rollover. */
  rolloverCap: credits('rollover_cap'),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

export const packProducts = pgTable('pack_products', {
  key: text('key').primaryKey(),
  toolKey: text('tool_key').notNull().references(() => tools.key, { onUpdate: 'cascade' }),
  name: text('name').notNull(),
  credits: credits('credits').notNull(),
  kind: text('kind', { enum: ['recurring', 'one_time'] }).notNull(),
  expiresDays: integer('expires_days'),
  reassign: text('reassign', { enum: ['remaining', 'full', 'next_cycle'] }).notNull().default('remaining'),
  rolloverCap: credits('rollover_cap'),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

export const profiles = pgTable('profiles', {
  key: text('key').primaryKey(),
  toolKey: text('tool_key').notNull().references(() => tools.key, { onUpdate: 'cascade' }),
  name: text('name').notNull(),
  poolCredits: credits('pool_credits').notNull().default(0),
  /** Most a single member may draw from the pool in one cycle; null means no cap. */
  memberPoolCap: credits('member_pool_cap'),
  /** Start of the org cycle whose pool grant has been issued: the reset's compare-and-set key. */
  cycleStart: instant('cycle_start'),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

export const seats = pgTable(
  'seats',
  {
    id: serial('id').primaryKey(),
    memberId: integer('member_id')
      .notNull()
      .references(() => members.id),
    toolKey: text('tool_key').notNull().references(() => tools.key, { onUpdate: 'cascade' }),
    profileKey: text('profile_key').references(() => profiles.key),
    anchorDay: smallint('anchor_day').notNull(),
    status: text('status', { enum: ['active', 'revoked'] }).notNull(),
    /**
     * The cycle whose grants this seat holds: the reset's compare-and-set key. Deliberately not
     * indexed, so the reset's update stays HOT; finding due seats is one scan per run.
     */
    cycleStart: instant('cycle_start').notNull(),
    cycleEnd: instant('cycle_end').notNull(),
    startedAt: instant('started_at').notNull(),
    revokedAt: instant('revoked_at'),
    /** The journal entry of the last revocation, reversed by a restore in the same cycle. */
    revokeJournalId: bigint('revoke_journal_id', { mode: 'number' }),
    /** The member's login at the vendor (a GitHub login), for usage the vendor reports by login. */
    vendorUser: text('vendor_user'),
  },
  (t) => [
    // A member has at most one seat per tool (SPEC "Words": seat).
    uniqueIndex('seats_member_tool_key').on(t.memberId, t.toolKey),
    uniqueIndex('seats_vendor_user_key').on(t.toolKey, sql`lower(${t.vendorUser})`),
  ],
);

/** The plans a seat holds: their grants stack into one quota (SPEC "Stacking"). */
export const seatPlans = pgTable(
  'seat_plans',
  {
    seatId: integer('seat_id')
      .notNull()
      .references(() => seats.id),
    planKey: text('plan_key')
      .notNull()
      .references(() => plans.key),
  },
  (t) => [primaryKey({ columns: [t.seatId, t.planKey] }), index('seat_plans_plan_idx').on(t.planKey)],
);

export const purchases = pgTable('purchases', {
  id: serial('id').primaryKey(),
  productKey: text('product_key')
    .notNull()
    .references(() => packProducts.key),
  quantity: integer('quantity').notNull(),
  reference: text('reference'),
  /** Price of one pack in the org's currency, for breakage and chargeback. */
  unitCost: numeric('unit_cost', { precision: 14, scale: 4 }),
  purchasedAt: instant('purchased_at').notNull(),
});

export const packs = pgTable(
  'packs',
  {
    id: serial('id').primaryKey(),
    purchaseId: integer('purchase_id')
      .notNull()
      .references(() => purchases.id),
    productKey: text('product_key')
      .notNull()
      .references(() => packProducts.key),
    seatId: integer('seat_id').references(() => seats.id),
    assignedAt: instant('assigned_at'),
    /** One-time packs: when their credits lapse, fixed at first assignment. */
    expiresAt: instant('expires_at'),
    /** End of the cycle this pack last paid credits into, recorded when it leaves a seat or is freshly assigned. */
    grantedUntil: instant('granted_until'),
  },
  (t) => [index('packs_seat_idx').on(t.seatId), index('packs_free_idx').on(t.productKey).where(sql`${t.seatId} is null`)],
);

/** A block of credits: the account that usage draws from. */
export const grants = pgTable(
  'grants',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    source: text('source', { enum: ['plan', 'pack', 'manual', 'pool', 'rollover', 'budget'] }).notNull(),
    seatId: integer('seat_id').references(() => seats.id),
    packId: integer('pack_id').references(() => packs.id),
    profileKey: text('profile_key').references(() => profiles.key),
    /** A plan grant's plan: a seat holding several plans has one plan grant each. */
    planKey: text('plan_key').references(() => plans.key),
    /** An overage budget grant's tool. */
    toolKey: text('tool_key').references(() => tools.key, { onUpdate: 'cascade' }),
    cycleStart: instant('cycle_start').notNull(),
    startsAt: instant('starts_at').notNull(),
    expiresAt: instant('expires_at').notNull(),
    amount: credits('amount').notNull(),
    remaining: credits('remaining').notNull(),
    /** Set when the grant left its holder (revoke, unassign) or expired: no longer part of the quota. */
    closedAt: instant('closed_at'),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('grants_seat_idx').on(t.seatId, t.cycleStart),
    // Only the grants a pack holds in inventory (no seat) are looked up by pack.
    index('grants_holding_idx').on(t.packId).where(sql`${t.seatId} is null`),
    uniqueIndex('grants_pool_cycle_key').on(t.profileKey, t.cycleStart).where(sql`${t.source} = 'pool'`),
    uniqueIndex('grants_budget_cycle_key').on(t.toolKey, t.cycleStart).where(sql`${t.source} = 'budget'`),
    // No index may name `remaining`: it changes on every usage event, and an indexed column
    // would keep those updates from being HOT (see the fillfactor migration).
    index('grants_open_expiry_idx').on(t.expiresAt).where(sql`${t.closedAt} is null`),
    check('grants_remaining_nonnegative', sql`${t.remaining} >= 0`),
  ],
);

/** One business transaction of the ledger; its transfers sum to zero by construction. */
export const journal = pgTable(
  'journal',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    seatId: integer('seat_id'),
    cycleStart: instant('cycle_start'),
    /** When it happened (a usage event's time); createdAt is when it was written. */
    occurredAt: instant('occurred_at').notNull(),
    createdAt: instant('created_at').notNull(),
    actor: text('actor'),
    reason: text('reason'),
    /** A usage event's id: applied once, ever. */
    eventKey: text('event_key'),
    credits: credits('credits'),
    ownDrawn: credits('own_drawn'),
    poolDrawn: credits('pool_drawn'),
    overage: credits('overage'),
    feature: text('feature'),
    source: text('source'),
    /** A usage event's day in its tool's zone (YYYY-MM-DD): what daily limits count. */
    day: date('day', { mode: 'string' }),
    /** Record mode: credits of this event beyond the seat's daily limit. */
    overDailyLimit: credits('over_daily_limit'),
  },
  (t) => [uniqueIndex('journal_event_key').on(t.eventKey), index('journal_seat_idx').on(t.seatId, t.occurredAt)],
);

/**
 * Double-entry: each row moves `amount` credits from one account to another. An account is a
 * grant (account 'grant' with its id) or one of the system accounts named in ledger/post.ts.
 * Append-only and only ever read in bulk (verify, reports), so it carries no index at all.
 */
export const transfers = pgTable(
  'transfers',
  {
    journalId: bigint('journal_id', { mode: 'number' }).notNull(),
    debitAccount: text('debit_account').notNull(),
    debitGrantId: bigint('debit_grant_id', { mode: 'number' }),
    creditAccount: text('credit_account').notNull(),
    creditGrantId: bigint('credit_grant_id', { mode: 'number' }),
    amount: credits('amount').notNull(),
  },
  (t) => [
    check('transfers_amount_positive', sql`${t.amount} > 0`),
    check('transfers_debit_grant', sql`(${t.debitAccount} = 'grant') = (${t.debitGrantId} is not null)`),
    check('transfers_credit_grant', sql`(${t.creditAccount} = 'grant') = (${t.creditGrantId} is not null)`),
    // Forfeits (a revoke, a plan removed) and what gave them back, alone: what a grant has
    // forfeited, net, is given back when its seat or plan returns in the same cycle. Usage never
    // forfeits, so its writes add nothing to either.
    index('transfers_forfeit_idx').on(t.debitGrantId).where(sql`${t.creditAccount} = 'forfeit'`),
    index('transfers_unforfeit_idx').on(t.creditGrantId).where(sql`${t.debitAccount} = 'forfeit'`),
  ],
);

/** A seat's balance for one cycle, kept in step with the transfers (verify recomputes it). */
export const seatCycles = pgTable(
  'seat_cycles',
  {
    seatId: integer('seat_id')
      .notNull()
      .references(() => seats.id),
    cycleStart: instant('cycle_start').notNull(),
    cycleEnd: instant('cycle_end').notNull(),
    quota: credits('quota').notNull().default(0),
    remaining: credits('remaining').notNull().default(0),
    used: credits('used').notNull().default(0),
    poolUsed: credits('pool_used').notNull().default(0),
    overage: credits('overage').notNull().default(0),
    expired: credits('expired').notNull().default(0),
    forfeited: credits('forfeited').notNull().default(0),
    /** The highest alert threshold (percent of quota) this cycle has already announced. */
    alertsSent: smallint('alerts_sent').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.seatId, t.cycleStart] })],
);

/**
 * What a seat with a daily limit used on one day of its tool's zone, kept in step with the usage
 * entries (verify recomputes it). Seats without a daily limit have no rows here.
 */
export const seatDays = pgTable(
  'seat_days',
  {
    seatId: integer('seat_id')
      .notNull()
      .references(() => seats.id),
    day: date('day', { mode: 'string' }).notNull(),
    used: credits('used').notNull().default(0),
    /** Record mode: credits used that day beyond the limit. */
    overLimit: credits('over_limit').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.seatId, t.day] })],
);

/** What each member drew from a pool grant, for the per-member pool cap. */
export const poolDraws = pgTable(
  'pool_draws',
  {
    poolGrantId: bigint('pool_grant_id', { mode: 'number' }).notNull(),
    seatId: integer('seat_id').notNull(),
    used: credits('used').notNull(),
  },
  (t) => [primaryKey({ columns: [t.poolGrantId, t.seatId] })],
);

/** Messages to send, written in the same transaction as the change that caused them. */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    /** Unique per message: a replayed cause cannot enqueue it twice. */
    dedupeKey: text('dedupe_key').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: instant('created_at').notNull(),
    availableAt: instant('available_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    sentAt: instant('sent_at'),
    lastError: text('last_error'),
  },
  (t) => [uniqueIndex('outbox_dedupe_key').on(t.dedupeKey), index('outbox_pending_idx').on(t.availableAt).where(sql`${t.sentAt} is null`)],
);

/** Work the admin must repeat in the vendor console so the two ledgers never drift apart. */
export const vendorTasks = pgTable('vendor_tasks', {
  id: serial('id').primaryKey(),
  text: text('text').notNull(),
  /** The tool whose vendor console the task is for. */
  toolKey: text('tool_key').references(() => tools.key, { onUpdate: 'cascade' }),
  memberId: integer('member_id').references(() => members.id),
  createdAt: instant('created_at').notNull(),
  doneAt: instant('done_at'),
  doneBy: text('done_by'),
});

export const creditRequests = pgTable('credit_requests', {
  id: serial('id').primaryKey(),
  memberId: integer('member_id')
    .notNull()
    .references(() => members.id),
  /** The tool the member asks credits of. */
  toolKey: text('tool_key').notNull().references(() => tools.key, { onUpdate: 'cascade' }),
  credits: credits('credits').notNull(),
  reason: text('reason'),
  status: text('status', { enum: ['pending', 'approved', 'denied'] }).notNull().default('pending'),
  channelId: text('channel_id'),
  messageTs: text('message_ts'),
  decidedBy: text('decided_by'),
  decidedAt: instant('decided_at'),
  createdAt: instant('created_at').notNull(),
});

/**
 * Writes that came with an idempotency key (a Slack command's trigger id, a modal's view id and
 * the hash of its values): the primary key lets each be applied once. The row is written in the
 * same transaction as the change, so a concurrent duplicate waits on it and then reads the outcome.
 */
export const appliedKeys = pgTable(
  'applied_keys',
  {
    key: text('key').primaryKey(),
    /** What the first application returned, handed to every repeat; null only while it is uncommitted. */
    outcome: jsonb('outcome'),
    appliedAt: instant('applied_at').notNull(),
  },
  // The daily prune deletes the oldest keys by time: found through this, not a scan of every key.
  (t) => [index('applied_keys_applied_at_idx').on(t.appliedAt)],
);

/**
 * A member's sync that showed more credits than creditdesk expected: a correction of `credits`
 * waiting for an admin, who confirms it (a manual grant) or dismisses it, once. A later sync of the
 * same seat supersedes it, since the later one measures the whole gap again.
 */
export const syncCorrections = pgTable(
  'sync_corrections',
  {
    id: serial('id').primaryKey(),
    seatId: integer('seat_id')
      .notNull()
      .references(() => seats.id),
    /** The seat's cycle when the member synced: a correction never reaches into the next cycle. */
    cycleStart: instant('cycle_start').notNull(),
    /** Own credits left as creditdesk had them, and as the vendor showed them. */
    expected: credits('expected').notNull(),
    reported: credits('reported').notNull(),
    credits: credits('credits').notNull(),
    status: text('status', { enum: ['pending', 'confirmed', 'dismissed', 'superseded', 'lapsed'] }).notNull().default('pending'),
    channelId: text('channel_id'),
    messageTs: text('message_ts'),
    decidedBy: text('decided_by'),
    decidedAt: instant('decided_at'),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [
    index('sync_corrections_pending_idx').on(t.seatId).where(sql`${t.status} = 'pending'`),
    check('sync_corrections_credits_positive', sql`${t.credits} > 0`),
  ],
);

/** One row per scheduled job and period: a job runs once per period across all replicas. */
export const jobRuns = pgTable(
  'job_runs',
  {
    job: text('job').notNull(),
    period: text('period').notNull(),
    startedAt: instant('started_at').notNull(),
    finishedAt: instant('finished_at'),
  },
  (t) => [primaryKey({ columns: [t.job, t.period] })],
);

/**
 * What a connector has recorded of each vendor row (SPEC "Usage from the vendors"). A vendor row is
 * a running total for its key (the person as the vendor names them, the UTC day, the kind of
 * usage), so a pull records only what grew past `recorded`, in the same transaction as the usage
 * events it writes: the row's lock is what keeps two pulls at once from recording one growth twice.
 */
export const vendorTotals = pgTable(
  'vendor_totals',
  {
    /** The connector that reads this vendor: 'figma' or 'github' (the CSV import and the pull share one). */
    connector: text('connector').notNull(),
    toolKey: text('tool_key').notNull().references(() => tools.key, { onUpdate: 'cascade' }),
    /** The person as the vendor names them, lower-cased: an email (Figma) or a login (GitHub). */
    vendorUser: text('vendor_user').notNull(),
    /** The vendor's UTC day. */
    day: date('day', { mode: 'string' }).notNull(),
    /** What the row counts, e.g. `design:seat` (Figma's editor type and credit source) or a Copilot model. */
    kind: text('kind').notNull(),
    /** The vendor's running total as last recorded, as the vendor wrote it (GitHub's quantities are fractional). */
    total: numeric('total').notNull().default('0'),
    /** Whole units recorded as usage events for this row so far: the total rounded to the nearest unit. */
    recorded: credits('recorded').notNull().default(0),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connector, t.toolKey, t.vendorUser, t.day, t.kind] })],
);

/**
 * Where each connector's next pull starts: the earliest UTC day whose rows may still grow. Moved
 * forward only (by the pull that fetched everything from it), so replicas and a pull that died
 * half way never skip a day; what they fetch twice, vendor_totals records once.
 */
export const connectorWatermarks = pgTable(
  'connector_watermarks',
  {
    connector: text('connector').notNull(),
    /** A connector pointed at another tool starts that tool's rows afresh. */
    toolKey: text('tool_key').notNull().references(() => tools.key, { onUpdate: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connector, t.toolKey] })],
);

/** One pull of a connector: when, what it read and recorded, whom it did not know, and why it failed. */
export const connectorRuns = pgTable(
  'connector_runs',
  {
    id: serial('id').primaryKey(),
    connector: text('connector').notNull(),
    toolKey: text('tool_key'),
    status: text('status', { enum: ['running', 'ok', 'failed'] }).notNull(),
    startedAt: instant('started_at').notNull(),
    finishedAt: instant('finished_at'),
    /** The UTC days asked for, inclusive. */
    since: date('since', { mode: 'string' }),
    until: date('until', { mode: 'string' }),
    /** Vendor rows read. */
    rows: integer('rows').notNull().default(0),
    /** Usage events recorded, and the units they carried. */
    applied: integer('applied').notNull().default(0),
    units: credits('units').notNull().default(0),
    unknownCount: integer('unknown_count').notNull().default(0),
    refusedCount: integer('refused_count').notNull().default(0),
    /** The people the vendor named whom creditdesk does not know, and the rows the ledger refused (first entries of each). */
    details: jsonb('details').notNull().default({}),
    /** What went wrong, in words an admin can act on (never a token). */
    error: text('error'),
  },
  (t) => [index('connector_runs_latest_idx').on(t.connector, t.startedAt)],
);

export type Tool = typeof tools.$inferSelect;
export type Member = typeof members.$inferSelect;
export type Plan = typeof plans.$inferSelect;
export type PackProduct = typeof packProducts.$inferSelect;
export type Profile = typeof profiles.$inferSelect;
export type Seat = typeof seats.$inferSelect;
export type Pack = typeof packs.$inferSelect;
export type Grant = typeof grants.$inferSelect;
export type SeatCycle = typeof seatCycles.$inferSelect;
export type SeatPlan = typeof seatPlans.$inferSelect;
