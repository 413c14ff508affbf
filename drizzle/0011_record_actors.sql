ALTER TABLE "elsync"."record_changes" ADD COLUMN "actor" text;--> statement-breakpoint
ALTER TABLE "elsync"."record_changes" ADD COLUMN "changed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "elsync"."records" ADD COLUMN "created_by" text;--> statement-breakpoint
ALTER TABLE "elsync"."records" ADD COLUMN "updated_by" text;--> statement-breakpoint
-- Who created and who last changed each record, where its system says (CREATE OR REPLACE VIEW
-- may only add columns at the end).
CREATE OR REPLACE VIEW "elsync"."records_current" AS
SELECT r.connection, r.stream, r.remote_id, r.external_key, r.title, r.status, r.status_category,
       r.priority, r.due_at, r.description, r.assignees, r.fields,
       r.remote_created_at, r.remote_updated_at, r.first_seen_at,
       -- a record that survived a complete scan was seen by it, without a write per record
       GREATEST(r.last_seen_at, s.last_full_scan_at) AS last_seen_at,
       r.version,
       r.created_by, r.updated_by
FROM "elsync"."records" r
LEFT JOIN "elsync"."stream_state" s ON s.connection = r.connection AND s.stream = r.stream
WHERE r.deleted_at IS NULL;
--> statement-breakpoint
-- Who made each change and when, where the system says; for a change elsync's own push wrote, the
-- mapping that pushed it.
CREATE OR REPLACE VIEW "elsync"."record_history" AS
SELECT c.connection, c.stream, c.remote_id, c.version, c.op, c.changed, c.observed_at, c.source, c.run_id, c.outbox_id,
       c.actor, c.changed_at, o.mapping_id
FROM "elsync"."record_changes" c
LEFT JOIN "elsync"."outbox" o ON o.id = c.outbox_id;
