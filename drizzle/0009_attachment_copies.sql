CREATE TABLE "elsync"."attachment_links" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mapping_id" text NOT NULL,
	"link_id" bigint NOT NULL,
	"outbox_id" bigint,
	"source_connection" text NOT NULL,
	"source_stream" text NOT NULL,
	"source_remote_id" text NOT NULL,
	"source_attachment_id" text NOT NULL,
	"filename" text,
	"size" bigint,
	"target_connection" text NOT NULL,
	"target_stream" text NOT NULL,
	"target_remote_id" text NOT NULL,
	"target_attachment_id" text,
	"target_comment_id" text,
	"state" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "attachment_links_state" CHECK ("elsync"."attachment_links"."state" in ('pending', 'copied', 'linked', 'skipped'))
);
--> statement-breakpoint
ALTER TABLE "elsync"."outbox" DROP CONSTRAINT "outbox_op";--> statement-breakpoint
ALTER TABLE "elsync"."attachment_links" ADD CONSTRAINT "attachment_links_link_id_record_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "elsync"."record_links"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "attachment_links_source" ON "elsync"."attachment_links" USING btree ("mapping_id","source_connection","source_stream","source_remote_id","source_attachment_id");--> statement-breakpoint
CREATE INDEX "attachment_links_target" ON "elsync"."attachment_links" USING btree ("target_connection","target_stream","target_remote_id","target_attachment_id");--> statement-breakpoint
CREATE INDEX "attachment_links_outbox" ON "elsync"."attachment_links" USING btree ("outbox_id");--> statement-breakpoint
ALTER TABLE "elsync"."outbox" ADD CONSTRAINT "outbox_op" CHECK ("elsync"."outbox"."op" in ('create', 'update', 'delete', 'attachment'));--> statement-breakpoint
-- Attachments copied between linked records, one row per source attachment and mapping:
-- pending (queued; failed or dead while its outbox row is), copied, linked (a link in its
-- place: an url-link or a comment) or skipped, with the reason.
CREATE OR REPLACE VIEW "elsync"."attachment_copies" AS
SELECT c.mapping_id, c.source_connection, c.source_stream, c.source_remote_id, c.source_attachment_id,
       c.filename, c.size, c.target_connection, c.target_stream, c.target_remote_id,
       c.target_attachment_id, c.target_comment_id,
       CASE WHEN c.state = 'pending' AND o.state IN ('failed', 'dead') THEN o.state ELSE c.state END AS state,
       CASE WHEN c.state = 'pending' THEN o.last_error ELSE c.reason END AS reason,
       c.outbox_id, o.attempts, c.created_at, c.updated_at
FROM "elsync"."attachment_links" c
LEFT JOIN "elsync"."outbox" o ON o.id = c.outbox_id;
--> statement-breakpoint
-- attachments as in 0001_analyst_views, with origin appended: synced when a copy of ours put it there
CREATE OR REPLACE VIEW "elsync"."attachments" AS
SELECT a.connection, a.stream, a.remote_id, a.attachment_id, a.filename, a.media_type, a.size, a.created_at,
       CASE WHEN EXISTS (
         SELECT 1 FROM "elsync"."attachment_links" c
         WHERE c.target_connection = a.connection AND c.target_stream = a.stream
           AND c.target_remote_id = a.remote_id AND c.target_attachment_id = a.attachment_id
       ) THEN 'synced' ELSE 'native' END AS origin
FROM "elsync"."record_attachments" a;
