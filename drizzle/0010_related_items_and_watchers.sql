CREATE TABLE "elsync"."record_watchers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"remote_id" text NOT NULL,
	"watcher_key" text NOT NULL,
	"email" text,
	"name" text,
	"user_id" text,
	"content_hash" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "elsync"."relation_links" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mapping_id" text NOT NULL,
	"origin" text NOT NULL,
	"left_parent_id" text,
	"left_related_id" text,
	"right_parent_id" text,
	"right_related_id" text,
	"state" text NOT NULL,
	"seen_left" boolean DEFAULT false NOT NULL,
	"seen_right" boolean DEFAULT false NOT NULL,
	"outbox_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "relation_links_state" CHECK ("elsync"."relation_links"."state" in ('waiting', 'copying', 'linked', 'removing', 'ended')),
	CONSTRAINT "relation_links_origin" CHECK ("elsync"."relation_links"."origin" in ('left', 'right'))
);
--> statement-breakpoint
CREATE TABLE "elsync"."watcher_copies" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mapping_id" text NOT NULL,
	"link_id" bigint NOT NULL,
	"target" text NOT NULL,
	"email" text NOT NULL,
	"outbox_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "watcher_copies_target" CHECK ("elsync"."watcher_copies"."target" in ('left', 'right'))
);
--> statement-breakpoint
ALTER TABLE "elsync"."outbox" DROP CONSTRAINT "outbox_op";--> statement-breakpoint
ALTER TABLE "elsync"."watcher_copies" ADD CONSTRAINT "watcher_copies_link_id_record_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "elsync"."record_links"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "record_watchers_key" ON "elsync"."record_watchers" USING btree ("connection","stream","remote_id","watcher_key");--> statement-breakpoint
CREATE UNIQUE INDEX "relation_links_left" ON "elsync"."relation_links" USING btree ("mapping_id","left_parent_id","left_related_id") WHERE "elsync"."relation_links"."left_parent_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "relation_links_right" ON "elsync"."relation_links" USING btree ("mapping_id","right_parent_id","right_related_id") WHERE "elsync"."relation_links"."right_parent_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "watcher_copies_key" ON "elsync"."watcher_copies" USING btree ("link_id","target","email");--> statement-breakpoint
ALTER TABLE "elsync"."outbox" ADD CONSTRAINT "outbox_op" CHECK ("elsync"."outbox"."op" in ('create', 'update', 'delete', 'attachment', 'relate', 'unrelate', 'watch'));--> statement-breakpoint
-- Views for analysts (docs/analyst-guide.md). Columns may be added, never renamed.
-- Watchers of records, where a mapping copies them (like related_items, one row per watcher).
CREATE OR REPLACE VIEW "elsync"."watchers" AS
SELECT connection, stream, remote_id, email, name, user_id, first_seen_at
FROM "elsync"."record_watchers";
--> statement-breakpoint
-- One row per related item a mapping pairs across its sides: waiting for a link, copied, removed.
CREATE OR REPLACE VIEW "elsync"."related_item_sync" AS
SELECT e.mapping_id,
       CASE e.state
         WHEN 'waiting' THEN 'waiting'
         WHEN 'linked' THEN 'copied'
         WHEN 'ended' THEN 'ended'
         WHEN 'copying' THEN CASE o.state WHEN 'dead' THEN 'failed' WHEN 'sent' THEN 'copied' ELSE 'queued' END
         WHEN 'removing' THEN CASE o.state WHEN 'dead' THEN 'failed' WHEN 'sent' THEN 'removed' ELSE 'removing' END
       END AS state,
       e.origin,
       e.left_parent_id AS left_remote_id, e.left_related_id AS left_related_id,
       e.right_parent_id AS right_remote_id, e.right_related_id AS right_related_id,
       CASE WHEN e.state = 'waiting' THEN
         concat_ws(' and ',
           CASE WHEN NOT EXISTS (SELECT 1 FROM "elsync"."record_links" l WHERE l.mapping_id = e.mapping_id AND l.state = 'linked'
                                   AND l.left_remote_id IS NOT NULL AND l.right_remote_id IS NOT NULL
                                   AND CASE e.origin WHEN 'left' THEN l.left_remote_id = e.left_parent_id ELSE l.right_remote_id = e.right_parent_id END)
                THEN 'record' END,
           CASE WHEN NOT EXISTS (SELECT 1 FROM "elsync"."record_links" l WHERE l.mapping_id = e.mapping_id AND l.state = 'linked'
                                   AND l.left_remote_id IS NOT NULL AND l.right_remote_id IS NOT NULL
                                   AND CASE e.origin WHEN 'left' THEN l.left_remote_id = e.left_related_id ELSE l.right_remote_id = e.right_related_id END)
                THEN 'related record' END)
       END AS waiting_for,
       e.outbox_id AS write_id, o.op AS write_op, o.state AS write_state,
       concat_ws(': ', o.last_error_code, o.last_error) AS last_error,
       e.created_at, e.updated_at
FROM "elsync"."relation_links" e
LEFT JOIN "elsync"."outbox" o ON o.id = e.outbox_id;
--> statement-breakpoint
-- One row per watcher a mapping copied, or tried to: skipped when the target has no such user.
CREATE OR REPLACE VIEW "elsync"."watcher_sync" AS
SELECT c.mapping_id, c.link_id, c.target, o.connection, o.stream, o.remote_id, c.email,
       CASE o.state WHEN 'sent' THEN 'copied' WHEN 'ignored' THEN 'skipped' WHEN 'dead' THEN 'failed' ELSE 'queued' END AS state,
       CASE WHEN o.state IN ('ignored', 'dead', 'failed') THEN concat_ws(': ', o.last_error_code, o.last_error) END AS reason,
       c.outbox_id AS write_id, c.created_at, o.sent_at
FROM "elsync"."watcher_copies" c
LEFT JOIN "elsync"."outbox" o ON o.id = c.outbox_id;
