CREATE TABLE "breaker_events" (
	"event_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"dependency" text NOT NULL,
	"state" text NOT NULL,
	CONSTRAINT "breaker_events_event_id_at_pk" PRIMARY KEY("event_id","at")
);
--> statement-breakpoint
CREATE TABLE "checkpoints" (
	"event_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"subject_id" text NOT NULL,
	"snapshot" jsonb NOT NULL,
	CONSTRAINT "checkpoints_event_id_at_pk" PRIMARY KEY("event_id","at")
);
--> statement-breakpoint
CREATE TABLE "dead_letters" (
	"id" text PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"payload" jsonb NOT NULL,
	"error" text NOT NULL,
	"attempts" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"next_attempt_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "drain_progress" (
	"pool" text PRIMARY KEY NOT NULL,
	"last_event_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "errors" (
	"event_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"category" text NOT NULL,
	"type" text NOT NULL,
	"severity" text NOT NULL,
	"code" text,
	"operation" text,
	"message" text NOT NULL,
	"context" jsonb,
	"strategy" text,
	"recovered" boolean,
	"user_id" text,
	CONSTRAINT "errors_event_id_at_pk" PRIMARY KEY("event_id","at")
);
--> statement-breakpoint
CREATE TABLE "recoveries" (
	"event_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"failure_type" text NOT NULL,
	"strategy" text NOT NULL,
	"outcome" text NOT NULL,
	"duration_ms" integer NOT NULL,
	"context" jsonb,
	CONSTRAINT "recoveries_event_id_at_pk" PRIMARY KEY("event_id","at")
);
--> statement-breakpoint
CREATE TABLE "state_transitions" (
	"event_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"user_id" text NOT NULL,
	"pool" text NOT NULL,
	"from_state" text NOT NULL,
	"to_state" text NOT NULL,
	"reason" text,
	"match_id" text,
	"actor" text,
	"version" integer NOT NULL,
	CONSTRAINT "state_transitions_event_id_at_pk" PRIMARY KEY("event_id","at")
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"event_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"event" text NOT NULL,
	"room" text,
	"participant" text,
	"valid" boolean NOT NULL,
	"payload" jsonb,
	CONSTRAINT "webhook_events_event_id_at_pk" PRIMARY KEY("event_id","at")
);
--> statement-breakpoint
CREATE TABLE "blocks" (
	"blocker_id" text NOT NULL,
	"blocked_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "blocks_blocker_id_blocked_id_pk" PRIMARY KEY("blocker_id","blocked_id")
);
--> statement-breakpoint
CREATE TABLE "matches" (
	"id" text PRIMARY KEY NOT NULL,
	"pool" text NOT NULL,
	"user_a" text NOT NULL,
	"user_b" text NOT NULL,
	"mode" text NOT NULL,
	"room" text,
	"created_at" timestamp with time zone NOT NULL,
	"connected_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"ended_by" text,
	"waited_a_ms" integer,
	"waited_b_ms" integer
);
--> statement-breakpoint
CREATE INDEX "breaker_events_dep_at" ON "breaker_events" USING btree ("dependency","at");--> statement-breakpoint
CREATE INDEX "checkpoints_subject_at" ON "checkpoints" USING btree ("subject_id","at");--> statement-breakpoint
CREATE INDEX "dead_letters_status" ON "dead_letters" USING btree ("status","at");--> statement-breakpoint
CREATE INDEX "errors_at" ON "errors" USING btree ("at");--> statement-breakpoint
CREATE INDEX "state_transitions_user_at" ON "state_transitions" USING btree ("user_id","at");--> statement-breakpoint
CREATE INDEX "state_transitions_match" ON "state_transitions" USING btree ("match_id");--> statement-breakpoint
CREATE INDEX "state_transitions_to_at" ON "state_transitions" USING btree ("to_state","at");--> statement-breakpoint
CREATE INDEX "matches_created_at" ON "matches" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "matches_user_a" ON "matches" USING btree ("user_a");--> statement-breakpoint
CREATE INDEX "matches_user_b" ON "matches" USING btree ("user_b");