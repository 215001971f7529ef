CREATE TABLE "appeals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"receipt_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"text" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" text,
	"decision_note" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "appeals_receipt" ON "appeals" USING btree ("receipt_id");--> statement-breakpoint
CREATE INDEX "appeals_status_at" ON "appeals" USING btree ("status","at");--> statement-breakpoint
-- Appeals are people's own words: the analyst role reads the moderation views instead.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN
    REVOKE ALL ON "appeals" FROM analyst;
  END IF;
EXCEPTION
  WHEN OTHERS THEN RAISE NOTICE 'analyst grants on appeals not changed (%)', SQLERRM;
END $$;
