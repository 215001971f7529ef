CREATE TABLE "chat_messages" (
	"event_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"pool" text NOT NULL,
	"match_id" text NOT NULL,
	"from_user" text NOT NULL,
	"to_user" text NOT NULL,
	"client_message_id" text NOT NULL,
	"text" text NOT NULL,
	"masked" text[] NOT NULL,
	CONSTRAINT "chat_messages_event_id_at_pk" PRIMARY KEY("event_id","at")
);
--> statement-breakpoint
CREATE INDEX "chat_messages_match_at" ON "chat_messages" USING btree ("match_id","at");