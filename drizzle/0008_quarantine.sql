CREATE TABLE "elsync"."quarantine" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"remote_id" text,
	"reason" text NOT NULL,
	"excerpt" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"last_run_id" bigint
);
--> statement-breakpoint
ALTER TABLE "elsync"."records" ADD COLUMN "children_stale_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "elsync"."sync_runs" ADD COLUMN "quarantined" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "elsync"."sync_runs" ADD COLUMN "children_stale" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "quarantine_key" ON "elsync"."quarantine" USING btree ("connection","stream",coalesce("remote_id", ''),"reason");--> statement-breakpoint
CREATE INDEX "records_children_stale" ON "elsync"."records" USING btree ("connection","stream","remote_id") WHERE "elsync"."records"."children_stale_since" is not null;--> statement-breakpoint
-- Items that could not be mirrored, for analysts (columns are only ever added to this view).
CREATE OR REPLACE VIEW "elsync"."quarantined_records" AS
SELECT q.connection, q.stream, q.remote_id, q.reason, q.excerpt, q.first_seen_at, q.last_seen_at, q.occurrences
FROM "elsync"."quarantine" q;
--> statement-breakpoint
-- sync_status as in 0007_interrupted_runs, with records whose children could not be read and the
-- quarantined items appended (CREATE OR REPLACE VIEW may only add columns at the end).
CREATE OR REPLACE VIEW "elsync"."sync_status" AS
SELECT s.connection, s.stream,
       ok.finished_at AS last_success_at,
       now() - ok.finished_at AS lag,
       last.status AS last_status,
       last.error AS last_error,
       (SELECT count(*) FROM "elsync"."sync_runs" f
         WHERE f.connection = s.connection AND f.stream = s.stream AND f.status IN ('failed', 'abandoned', 'interrupted')
           AND f.started_at > now() - interval '24 hours') AS errors_24h,
       s.last_full_scan_at,
       (SELECT count(*) FROM "elsync"."records" r
         WHERE r.connection = s.connection AND r.stream = s.stream AND r.deleted_at IS NULL) AS live_records,
       (SELECT count(*) FROM "elsync"."outbox" o
         WHERE o.connection = s.connection AND o.stream = s.stream AND o.state IN ('pending', 'failed')) AS outbox_backlog,
       (SELECT count(*) FROM "elsync"."outbox" o
         WHERE o.connection = s.connection AND o.stream = s.stream AND o.state = 'dead') AS outbox_dead,
       (SELECT count(*) FROM "elsync"."field_conflicts" c
         JOIN "elsync"."mapping_offsets" m ON m.mapping_id = c.mapping_id
         WHERE c.state = 'open'
           AND ((m.left_connection = s.connection AND m.left_stream = s.stream)
             OR (m.right_connection = s.connection AND m.right_stream = s.stream))) AS open_conflicts,
       (SELECT count(*) FROM "elsync"."records" r
         WHERE r.connection = s.connection AND r.stream = s.stream AND r.deleted_at IS NULL
           AND r.children_stale_since IS NOT NULL) AS children_stale,
       (SELECT count(*) FROM "elsync"."quarantine" q
         WHERE q.connection = s.connection AND q.stream = s.stream) AS quarantined
FROM (
  SELECT connection, stream, last_full_scan_at FROM "elsync"."stream_state"
  UNION
  SELECT DISTINCT connection, stream, NULL::timestamptz FROM "elsync"."sync_runs"
  WHERE (connection, stream) NOT IN (SELECT connection, stream FROM "elsync"."stream_state")
) s
LEFT JOIN LATERAL (
  SELECT finished_at FROM "elsync"."sync_runs" r
  WHERE r.connection = s.connection AND r.stream = s.stream AND r.status = 'succeeded'
  ORDER BY r.id DESC LIMIT 1
) ok ON true
LEFT JOIN LATERAL (
  SELECT status, error FROM "elsync"."sync_runs" r
  WHERE r.connection = s.connection AND r.stream = s.stream
  ORDER BY r.id DESC LIMIT 1
) last ON true;
