CREATE SCHEMA IF NOT EXISTS "elsync";
--> statement-breakpoint
CREATE TABLE "elsync"."record_attachments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"remote_id" text NOT NULL,
	"attachment_id" text NOT NULL,
	"filename" text,
	"media_type" text,
	"size" bigint,
	"created_at" timestamp with time zone,
	"document" jsonb NOT NULL,
	"content_hash" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "elsync"."record_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"record_id" bigint NOT NULL,
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"remote_id" text NOT NULL,
	"version" integer NOT NULL,
	"op" text NOT NULL,
	"changed" jsonb NOT NULL,
	"source" text NOT NULL,
	"observed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "elsync"."record_comments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"remote_id" text NOT NULL,
	"comment_id" text NOT NULL,
	"body" text,
	"author" text,
	"created_at" timestamp with time zone,
	"origin" text DEFAULT 'native' NOT NULL,
	"document" jsonb NOT NULL,
	"content_hash" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "elsync"."record_relations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"remote_id" text NOT NULL,
	"related_remote_id" text NOT NULL,
	"related_stream" text,
	"relation_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "elsync"."records" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"remote_id" text NOT NULL,
	"external_key" text,
	"title" text,
	"status" text,
	"status_category" text,
	"priority" text,
	"due_at" timestamp with time zone,
	"description" text,
	"assignees" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"fields" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"remote_created_at" timestamp with time zone,
	"remote_updated_at" timestamp with time zone,
	"snapshot" jsonb NOT NULL,
	"document" jsonb NOT NULL,
	"content_hash" text NOT NULL,
	"version" integer NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "elsync"."scan_seen" (
	"run_id" bigint NOT NULL,
	"remote_id" text NOT NULL,
	CONSTRAINT "scan_seen_run_id_remote_id_pk" PRIMARY KEY("run_id","remote_id")
);
--> statement-breakpoint
CREATE TABLE "elsync"."stream_state" (
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"cursor" jsonb,
	"last_full_scan_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_state_connection_stream_pk" PRIMARY KEY("connection","stream")
);
--> statement-breakpoint
CREATE TABLE "elsync"."sync_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"mode" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"duration_ms" integer,
	"pages" integer DEFAULT 0 NOT NULL,
	"records_seen" integer DEFAULT 0 NOT NULL,
	"records_changed" integer DEFAULT 0 NOT NULL,
	"records_deleted" integer DEFAULT 0 NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "elsync"."record_changes" ADD CONSTRAINT "record_changes_record_id_records_id_fk" FOREIGN KEY ("record_id") REFERENCES "elsync"."records"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "record_attachments_key" ON "elsync"."record_attachments" USING btree ("connection","stream","remote_id","attachment_id");--> statement-breakpoint
CREATE UNIQUE INDEX "record_changes_record_version" ON "elsync"."record_changes" USING btree ("record_id","version");--> statement-breakpoint
CREATE INDEX "record_changes_stream" ON "elsync"."record_changes" USING btree ("connection","stream","id");--> statement-breakpoint
CREATE UNIQUE INDEX "record_comments_key" ON "elsync"."record_comments" USING btree ("connection","stream","remote_id","comment_id");--> statement-breakpoint
CREATE UNIQUE INDEX "record_relations_key" ON "elsync"."record_relations" USING btree ("connection","stream","remote_id","related_remote_id");--> statement-breakpoint
CREATE UNIQUE INDEX "records_natural_key" ON "elsync"."records" USING btree ("connection","stream","remote_id");--> statement-breakpoint
CREATE INDEX "records_external_key" ON "elsync"."records" USING btree ("connection","stream","external_key");--> statement-breakpoint
CREATE INDEX "sync_runs_stream" ON "elsync"."sync_runs" USING btree ("connection","stream","id");