ALTER TABLE "elsync"."sync_runs" ADD COLUMN "queued_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "elsync"."sync_runs" ADD COLUMN "since" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "sync_runs_queued" ON "elsync"."sync_runs" USING btree ("id") WHERE "elsync"."sync_runs"."status" = 'queued';--> statement-breakpoint
-- One row per mapping that has run: whether an admin paused it (POST /v1/mappings/:id/pause) and
-- what waits on it (columns are only ever added to this view).
CREATE OR REPLACE VIEW "elsync"."mappings" AS
SELECT m.mapping_id, m.paused,
       m.left_connection, m.left_stream, m.right_connection, m.right_stream,
       (SELECT count(*) FROM "elsync"."outbox" o
         WHERE o.mapping_id = m.mapping_id AND o.state IN ('pending', 'failed')) AS pending_writes,
       (SELECT count(*) FROM "elsync"."outbox" o
         WHERE o.mapping_id = m.mapping_id AND o.state = 'dead') AS dead_writes,
       (SELECT count(*) FROM "elsync"."field_conflicts" c
         WHERE c.mapping_id = m.mapping_id AND c.state = 'open') AS open_conflicts,
       (SELECT count(*) FROM "elsync"."record_links" l
         WHERE l.mapping_id = m.mapping_id AND l.state <> 'unlinked') AS links
FROM "elsync"."mapping_offsets" m;
