CREATE TABLE "connector_runs" (
	"id" serial PRIMARY KEY NOT NULL,
	"connector" text NOT NULL,
	"tool_key" text,
	"status" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"since" date,
	"until" date,
	"rows" integer DEFAULT 0 NOT NULL,
	"applied" integer DEFAULT 0 NOT NULL,
	"units" bigint DEFAULT 0 NOT NULL,
	"unknown_count" integer DEFAULT 0 NOT NULL,
	"refused_count" integer DEFAULT 0 NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "connector_watermarks" (
	"connector" text NOT NULL,
	"tool_key" text NOT NULL,
	"day" date NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "connector_watermarks_connector_tool_key_pk" PRIMARY KEY("connector","tool_key")
);
--> statement-breakpoint
CREATE TABLE "vendor_totals" (
	"connector" text NOT NULL,
	"tool_key" text NOT NULL,
	"vendor_user" text NOT NULL,
	"day" date NOT NULL,
	"kind" text NOT NULL,
	"total" numeric DEFAULT '0' NOT NULL,
	"recorded" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vendor_totals_connector_tool_key_vendor_user_day_kind_pk" PRIMARY KEY("connector","tool_key","vendor_user","day","kind")
);
--> statement-breakpoint
ALTER TABLE "connector_watermarks" ADD CONSTRAINT "connector_watermarks_tool_key_tools_key_fk" FOREIGN KEY ("tool_key") REFERENCES "public"."tools"("key") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "vendor_totals" ADD CONSTRAINT "vendor_totals_tool_key_tools_key_fk" FOREIGN KEY ("tool_key") REFERENCES "public"."tools"("key") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "connector_runs_latest_idx" ON "connector_runs" USING btree ("connector","started_at");