CREATE TABLE "reports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"reporter_id" text NOT NULL,
	"reported_id" text NOT NULL,
	"match_id" text NOT NULL,
	"pool" text NOT NULL,
	"reason" text NOT NULL,
	"note" text,
	"transcript" jsonb NOT NULL,
	"match_started_at" timestamp with time zone,
	"match_ended_at" timestamp with time zone,
	"snapshot" "bytea",
	"snapshot_type" text,
	"snapshot_expires_at" timestamp with time zone,
	"status" text DEFAULT 'open' NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" text,
	"decision" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "reports_reporter_match" ON "reports" USING btree ("reporter_id","match_id");--> statement-breakpoint
CREATE INDEX "reports_reported_at" ON "reports" USING btree ("reported_id","at");--> statement-breakpoint
CREATE INDEX "reports_status_at" ON "reports" USING btree ("status","at");--> statement-breakpoint
-- Reports hold people's words and images as evidence: the analyst role (0003, which grants it every
-- new table by default) may not read them; the moderation views give analysts the counts.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN
    REVOKE ALL ON "reports" FROM analyst;
  END IF;
EXCEPTION
  WHEN OTHERS THEN RAISE NOTICE 'analyst grants on reports not changed (%)', SQLERRM;
END $$;
