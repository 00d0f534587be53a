CREATE TABLE "applied_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"outcome" jsonb,
	"applied_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_corrections" (
	"id" serial PRIMARY KEY NOT NULL,
	"seat_id" integer NOT NULL,
	"cycle_start" timestamp with time zone NOT NULL,
	"expected" bigint NOT NULL,
	"reported" bigint NOT NULL,
	"credits" bigint NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"channel_id" text,
	"message_ts" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "sync_corrections_credits_positive" CHECK ("sync_corrections"."credits" > 0)
);
--> statement-breakpoint
ALTER TABLE "sync_corrections" ADD CONSTRAINT "sync_corrections_seat_id_seats_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sync_corrections_pending_idx" ON "sync_corrections" USING btree ("seat_id") WHERE "sync_corrections"."status" = 'pending';