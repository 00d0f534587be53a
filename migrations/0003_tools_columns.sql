CREATE TABLE "seat_days" (
	"seat_id" integer NOT NULL,
	"day" date NOT NULL,
	"used" bigint DEFAULT 0 NOT NULL,
	"over_limit" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "seat_days_seat_id_day_pk" PRIMARY KEY("seat_id","day")
);
--> statement-breakpoint
CREATE TABLE "seat_plans" (
	"seat_id" integer NOT NULL,
	"plan_key" text NOT NULL,
	CONSTRAINT "seat_plans_seat_id_plan_key_pk" PRIMARY KEY("seat_id","plan_key")
);
--> statement-breakpoint
CREATE TABLE "tools" (
	"key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"unit" text DEFAULT 'credits' NOT NULL,
	"time_zone" text,
	"anchor_day" smallint,
	"overage_budget" bigint,
	"overage_unit_cost" numeric(14, 6),
	"sync_nudge" boolean DEFAULT false NOT NULL,
	"cycle_start" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "credit_requests" ADD COLUMN "tool_key" text;--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "plan_key" text;--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "tool_key" text;--> statement-breakpoint
ALTER TABLE "journal" ADD COLUMN "day" date;--> statement-breakpoint
ALTER TABLE "journal" ADD COLUMN "over_daily_limit" bigint;--> statement-breakpoint
ALTER TABLE "pack_products" ADD COLUMN "tool_key" text;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "tool_key" text;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "daily_limit" bigint;--> statement-breakpoint
ALTER TABLE "profiles" ADD COLUMN "tool_key" text;--> statement-breakpoint
ALTER TABLE "seats" ADD COLUMN "tool_key" text;--> statement-breakpoint
ALTER TABLE "seats" ADD COLUMN "vendor_user" text;--> statement-breakpoint
ALTER TABLE "vendor_tasks" ADD COLUMN "tool_key" text;--> statement-breakpoint
ALTER TABLE "seat_days" ADD CONSTRAINT "seat_days_seat_id_seats_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seat_plans" ADD CONSTRAINT "seat_plans_seat_id_seats_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seat_plans" ADD CONSTRAINT "seat_plans_plan_key_plans_key_fk" FOREIGN KEY ("plan_key") REFERENCES "public"."plans"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "seat_plans_plan_idx" ON "seat_plans" USING btree ("plan_key");--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_plan_key_plans_key_fk" FOREIGN KEY ("plan_key") REFERENCES "public"."plans"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "grants_budget_cycle_key" ON "grants" USING btree ("tool_key","cycle_start") WHERE "grants"."source" = 'budget';--> statement-breakpoint
CREATE UNIQUE INDEX "seats_vendor_user_key" ON "seats" USING btree ("tool_key",lower("vendor_user"));