CREATE TABLE "elsync"."stream_leases" (
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"owner" text,
	"expires_at" timestamp with time zone NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acquired_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_ticks" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "stream_leases_connection_stream_pk" PRIMARY KEY("connection","stream")
);
