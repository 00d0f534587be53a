CREATE TABLE "credit_requests" (
	"id" serial PRIMARY KEY NOT NULL,
	"member_id" integer NOT NULL,
	"credits" bigint NOT NULL,
	"reason" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"channel_id" text,
	"message_ts" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "grants" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"seat_id" integer,
	"pack_id" integer,
	"profile_key" text,
	"cycle_start" timestamp with time zone NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"amount" bigint NOT NULL,
	"remaining" bigint NOT NULL,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "grants_remaining_nonnegative" CHECK ("grants"."remaining" >= 0)
);
--> statement-breakpoint
CREATE TABLE "job_runs" (
	"job" text NOT NULL,
	"period" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "job_runs_job_period_pk" PRIMARY KEY("job","period")
);
--> statement-breakpoint
CREATE TABLE "journal" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"seat_id" integer,
	"cycle_start" timestamp with time zone,
	"occurred_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"actor" text,
	"reason" text,
	"event_key" text,
	"credits" bigint,
	"own_drawn" bigint,
	"pool_drawn" bigint,
	"overage" bigint,
	"feature" text,
	"source" text
);
--> statement-breakpoint
CREATE TABLE "members" (
	"id" serial PRIMARY KEY NOT NULL,
	"slack_id" text,
	"email" text,
	"name" text,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"is_admin" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"available_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"sent_at" timestamp with time zone,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "pack_products" (
	"key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"credits" bigint NOT NULL,
	"kind" text NOT NULL,
	"expires_days" integer,
	"reassign" text DEFAULT 'remaining' NOT NULL,
	"rollover_cap" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "packs" (
	"id" serial PRIMARY KEY NOT NULL,
	"purchase_id" integer NOT NULL,
	"product_key" text NOT NULL,
	"seat_id" integer,
	"assigned_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"granted_until" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "plans" (
	"key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"credits" bigint NOT NULL,
	"rollover_cap" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pool_draws" (
	"pool_grant_id" bigint NOT NULL,
	"seat_id" integer NOT NULL,
	"used" bigint NOT NULL,
	CONSTRAINT "pool_draws_pool_grant_id_seat_id_pk" PRIMARY KEY("pool_grant_id","seat_id")
);
--> statement-breakpoint
CREATE TABLE "profiles" (
	"key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"pool_credits" bigint DEFAULT 0 NOT NULL,
	"member_pool_cap" bigint,
	"cycle_start" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "purchases" (
	"id" serial PRIMARY KEY NOT NULL,
	"product_key" text NOT NULL,
	"quantity" integer NOT NULL,
	"reference" text,
	"unit_cost" numeric(14, 4),
	"purchased_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "seat_cycles" (
	"seat_id" integer NOT NULL,
	"cycle_start" timestamp with time zone NOT NULL,
	"cycle_end" timestamp with time zone NOT NULL,
	"quota" bigint DEFAULT 0 NOT NULL,
	"remaining" bigint DEFAULT 0 NOT NULL,
	"used" bigint DEFAULT 0 NOT NULL,
	"pool_used" bigint DEFAULT 0 NOT NULL,
	"overage" bigint DEFAULT 0 NOT NULL,
	"expired" bigint DEFAULT 0 NOT NULL,
	"forfeited" bigint DEFAULT 0 NOT NULL,
	"alerts_sent" smallint DEFAULT 0 NOT NULL,
	CONSTRAINT "seat_cycles_seat_id_cycle_start_pk" PRIMARY KEY("seat_id","cycle_start")
);
--> statement-breakpoint
CREATE TABLE "seats" (
	"id" serial PRIMARY KEY NOT NULL,
	"member_id" integer NOT NULL,
	"plan_key" text NOT NULL,
	"profile_key" text,
	"anchor_day" smallint NOT NULL,
	"status" text NOT NULL,
	"cycle_start" timestamp with time zone NOT NULL,
	"cycle_end" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoke_journal_id" bigint
);
--> statement-breakpoint
CREATE TABLE "transfers" (
	"journal_id" bigint NOT NULL,
	"debit_account" text NOT NULL,
	"debit_grant_id" bigint,
	"credit_account" text NOT NULL,
	"credit_grant_id" bigint,
	"amount" bigint NOT NULL,
	CONSTRAINT "transfers_amount_positive" CHECK ("transfers"."amount" > 0),
	CONSTRAINT "transfers_debit_grant" CHECK (("transfers"."debit_account" = 'grant') = ("transfers"."debit_grant_id" is not null)),
	CONSTRAINT "transfers_credit_grant" CHECK (("transfers"."credit_account" = 'grant') = ("transfers"."credit_grant_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "vendor_tasks" (
	"id" serial PRIMARY KEY NOT NULL,
	"text" text NOT NULL,
	"member_id" integer,
	"created_at" timestamp with time zone NOT NULL,
	"done_at" timestamp with time zone,
	"done_by" text
);
--> statement-breakpoint
ALTER TABLE "credit_requests" ADD CONSTRAINT "credit_requests_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_seat_id_seats_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_pack_id_packs_id_fk" FOREIGN KEY ("pack_id") REFERENCES "public"."packs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_profile_key_profiles_key_fk" FOREIGN KEY ("profile_key") REFERENCES "public"."profiles"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "packs" ADD CONSTRAINT "packs_purchase_id_purchases_id_fk" FOREIGN KEY ("purchase_id") REFERENCES "public"."purchases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "packs" ADD CONSTRAINT "packs_product_key_pack_products_key_fk" FOREIGN KEY ("product_key") REFERENCES "public"."pack_products"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "packs" ADD CONSTRAINT "packs_seat_id_seats_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_product_key_pack_products_key_fk" FOREIGN KEY ("product_key") REFERENCES "public"."pack_products"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seat_cycles" ADD CONSTRAINT "seat_cycles_seat_id_seats_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seats" ADD CONSTRAINT "seats_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seats" ADD CONSTRAINT "seats_plan_key_plans_key_fk" FOREIGN KEY ("plan_key") REFERENCES "public"."plans"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seats" ADD CONSTRAINT "seats_profile_key_profiles_key_fk" FOREIGN KEY ("profile_key") REFERENCES "public"."profiles"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vendor_tasks" ADD CONSTRAINT "vendor_tasks_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "grants_seat_idx" ON "grants" USING btree ("seat_id","cycle_start");--> statement-breakpoint
CREATE INDEX "grants_holding_idx" ON "grants" USING btree ("pack_id") WHERE "grants"."seat_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "grants_pool_cycle_key" ON "grants" USING btree ("profile_key","cycle_start") WHERE "grants"."source" = 'pool';--> statement-breakpoint
CREATE INDEX "grants_open_expiry_idx" ON "grants" USING btree ("expires_at") WHERE "grants"."closed_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "journal_event_key" ON "journal" USING btree ("event_key");--> statement-breakpoint
CREATE INDEX "journal_seat_idx" ON "journal" USING btree ("seat_id","occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "members_slack_id_key" ON "members" USING btree ("slack_id");--> statement-breakpoint
CREATE UNIQUE INDEX "members_email_key" ON "members" USING btree (lower("email"));--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_dedupe_key" ON "outbox" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("available_at") WHERE "outbox"."sent_at" is null;--> statement-breakpoint
CREATE INDEX "packs_seat_idx" ON "packs" USING btree ("seat_id");--> statement-breakpoint
CREATE INDEX "packs_free_idx" ON "packs" USING btree ("product_key") WHERE "packs"."seat_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "seats_member_key" ON "seats" USING btree ("member_id");