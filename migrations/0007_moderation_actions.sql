CREATE TABLE "moderation_actions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"action" text NOT NULL,
	"user_id" text NOT NULL,
	"device_id" text,
	"ip_key" text,
	"ends_at" timestamp with time zone,
	"reason" text NOT NULL,
	"actor" text NOT NULL,
	"report_ids" jsonb,
	"target_id" uuid
);
--> statement-breakpoint
CREATE INDEX "moderation_actions_user_at" ON "moderation_actions" USING btree ("user_id","at");--> statement-breakpoint
CREATE INDEX "moderation_actions_action_at" ON "moderation_actions" USING btree ("action","at");--> statement-breakpoint
-- Device ids and address keys identify people: the analyst role reads the moderation views instead.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN
    REVOKE ALL ON "moderation_actions" FROM analyst;
  END IF;
EXCEPTION
  WHEN OTHERS THEN RAISE NOTICE 'analyst grants on moderation_actions not changed (%)', SQLERRM;
END $$;
