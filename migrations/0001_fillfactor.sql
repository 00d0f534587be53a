-- Custom SQL migration file, put your code below! ---- Balance rows change in place on every usage event. Room on each page lets PostgreSQL keep
-- those updates HOT (no index writes); drizzle's schema has no table storage parameters.
ALTER TABLE "grants" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "seat_cycles" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "seats" SET (fillfactor = 80);--> statement-breakpoint
ALTER TABLE "pool_draws" SET (fillfactor = 70);
