-- A database created before tools existed becomes one tool, `default`, that owns everything it
-- had (SPEC "Several tools"). Its zone and anchor day stay null: it keeps following
-- ORG_TIMEZONE and CYCLE_ANCHOR_DAY as before. A new database starts with the same one tool.
INSERT INTO "tools" ("key", "name", "unit") VALUES ('default', 'AI credits', 'credits') ON CONFLICT DO NOTHING;--> statement-breakpoint
UPDATE "plans" SET "tool_key" = 'default' WHERE "tool_key" IS NULL;--> statement-breakpoint
UPDATE "pack_products" SET "tool_key" = 'default' WHERE "tool_key" IS NULL;--> statement-breakpoint
UPDATE "profiles" SET "tool_key" = 'default' WHERE "tool_key" IS NULL;--> statement-breakpoint
UPDATE "seats" SET "tool_key" = 'default' WHERE "tool_key" IS NULL;--> statement-breakpoint
UPDATE "credit_requests" SET "tool_key" = 'default' WHERE "tool_key" IS NULL;--> statement-breakpoint
UPDATE "vendor_tasks" SET "tool_key" = 'default' WHERE "tool_key" IS NULL;--> statement-breakpoint
-- Each seat held one plan: it becomes the seat's one row in seat_plans, and names its plan grants.
INSERT INTO "seat_plans" ("seat_id", "plan_key") SELECT "id", "plan_key" FROM "seats" WHERE "plan_key" IS NOT NULL ON CONFLICT DO NOTHING;--> statement-breakpoint
UPDATE "grants" g SET "plan_key" = s."plan_key" FROM "seats" s
  WHERE g."seat_id" = s."id" AND g."pack_id" IS NULL AND g."source" IN ('plan', 'rollover') AND g."plan_key" IS NULL;--> statement-breakpoint
-- Only a daily limit set in the days after the upgrade reads the day of an older usage entry, so
-- the last two days' entries learn theirs (in UTC: a migration cannot read ORG_TIMEZONE); the
-- rest of a large journal is left as it is instead of being rewritten.
UPDATE "journal" SET "day" = ("occurred_at" AT TIME ZONE 'UTC')::date
  WHERE "kind" = 'usage' AND "day" IS NULL AND "occurred_at" > now() - interval '2 days';
