ALTER TABLE "seats" DROP CONSTRAINT "seats_plan_key_plans_key_fk";
--> statement-breakpoint
DROP INDEX "seats_member_key";--> statement-breakpoint
ALTER TABLE "credit_requests" ALTER COLUMN "tool_key" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "pack_products" ALTER COLUMN "tool_key" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ALTER COLUMN "tool_key" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "profiles" ALTER COLUMN "tool_key" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "seats" ALTER COLUMN "tool_key" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_requests" ADD CONSTRAINT "credit_requests_tool_key_tools_key_fk" FOREIGN KEY ("tool_key") REFERENCES "public"."tools"("key") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_tool_key_tools_key_fk" FOREIGN KEY ("tool_key") REFERENCES "public"."tools"("key") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "pack_products" ADD CONSTRAINT "pack_products_tool_key_tools_key_fk" FOREIGN KEY ("tool_key") REFERENCES "public"."tools"("key") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_tool_key_tools_key_fk" FOREIGN KEY ("tool_key") REFERENCES "public"."tools"("key") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "profiles" ADD CONSTRAINT "profiles_tool_key_tools_key_fk" FOREIGN KEY ("tool_key") REFERENCES "public"."tools"("key") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "seats" ADD CONSTRAINT "seats_tool_key_tools_key_fk" FOREIGN KEY ("tool_key") REFERENCES "public"."tools"("key") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "vendor_tasks" ADD CONSTRAINT "vendor_tasks_tool_key_tools_key_fk" FOREIGN KEY ("tool_key") REFERENCES "public"."tools"("key") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
CREATE UNIQUE INDEX "seats_member_tool_key" ON "seats" USING btree ("member_id","tool_key");--> statement-breakpoint
ALTER TABLE "seats" DROP COLUMN "plan_key";