CREATE TABLE "elsync"."child_reads" (
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"remote_id" text NOT NULL,
	"read_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "child_reads_connection_stream_remote_id_pk" PRIMARY KEY("connection","stream","remote_id")
);
--> statement-breakpoint
CREATE TABLE "elsync"."comment_links" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mapping_id" text NOT NULL,
	"link_id" bigint NOT NULL,
	"source_side" text NOT NULL,
	"source_comment_id" text NOT NULL,
	"target_comment_id" text,
	"outbox_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"copied_at" timestamp with time zone,
	CONSTRAINT "comment_links_side" CHECK ("elsync"."comment_links"."source_side" in ('left', 'right'))
);
--> statement-breakpoint
ALTER TABLE "elsync"."outbox" DROP CONSTRAINT "outbox_op";--> statement-breakpoint
ALTER TABLE "elsync"."comment_links" ADD CONSTRAINT "comment_links_link_id_record_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "elsync"."record_links"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "comment_links_source" ON "elsync"."comment_links" USING btree ("link_id","source_side","source_comment_id");--> statement-breakpoint
CREATE INDEX "comment_links_target" ON "elsync"."comment_links" USING btree ("target_comment_id") WHERE "elsync"."comment_links"."target_comment_id" is not null;--> statement-breakpoint
CREATE INDEX "comment_links_outbox" ON "elsync"."comment_links" USING btree ("outbox_id");--> statement-breakpoint
ALTER TABLE "elsync"."outbox" ADD CONSTRAINT "outbox_op" CHECK ("elsync"."outbox"."op" in ('create', 'update', 'delete', 'attachment', 'comment', 'relate', 'unrelate', 'watch'));--> statement-breakpoint
-- `origin` is `synced` for a copy elsync made, on every vendor: by its attribution footer (the
-- connectors' `origin`), or because a comment link names it as a copy on this record, which
-- holds even when a human has removed the footer. Same columns in the same order.
CREATE OR REPLACE VIEW "elsync"."comments" AS
SELECT c.connection, c.stream, c.remote_id, c.comment_id, c.body, c.author, c.created_at,
       CASE WHEN c.origin = 'synced' OR EXISTS (
         SELECT 1 FROM "elsync"."comment_links" k
         JOIN "elsync"."record_links" l ON l.id = k.link_id
         JOIN "elsync"."mapping_offsets" m ON m.mapping_id = l.mapping_id
         WHERE k.target_comment_id = c.comment_id
           AND ((k.source_side = 'left' AND m.right_connection = c.connection AND m.right_stream = c.stream AND l.right_remote_id = c.remote_id)
             OR (k.source_side = 'right' AND m.left_connection = c.connection AND m.left_stream = c.stream AND l.left_remote_id = c.remote_id))
       ) THEN 'synced' ELSE 'native' END AS origin
FROM "elsync"."record_comments" c;
