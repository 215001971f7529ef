ALTER TABLE "drain_progress" DISABLE ROW LEVEL SECURITY;--> statement-breakpoint
DROP TABLE "drain_progress" CASCADE;--> statement-breakpoint
DROP INDEX "state_transitions_match";--> statement-breakpoint
ALTER TABLE "breaker_events" ADD COLUMN "instance" text;--> statement-breakpoint
ALTER TABLE "dead_letters" ADD COLUMN "kind" text;--> statement-breakpoint
ALTER TABLE "dead_letters" ADD COLUMN "event_id" text;--> statement-breakpoint
CREATE INDEX "dead_letters_day" ON "dead_letters" USING btree ((date_trunc('day', ("at" AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC'));--> statement-breakpoint
CREATE INDEX "errors_hour" ON "errors" USING btree ((date_trunc('hour', ("at" AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC'));--> statement-breakpoint
CREATE INDEX "recoveries_day_type" ON "recoveries" USING btree ((date_trunc('day', ("at" AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC'),"failure_type");--> statement-breakpoint
CREATE INDEX "state_transitions_disconnect_day" ON "state_transitions" USING btree ((date_trunc('day', ("at" AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC')) WHERE "state_transitions"."to_state" = 'DISCONNECTING';--> statement-breakpoint
CREATE INDEX "webhook_events_room_at" ON "webhook_events" USING btree ("room","at");--> statement-breakpoint
CREATE INDEX "state_transitions_match" ON "state_transitions" USING btree ("match_id","at");