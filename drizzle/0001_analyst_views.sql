-- Stable views for analysts (DESIGN.md section 4). Columns may be added, never renamed.
CREATE OR REPLACE VIEW "elsync"."records_current" AS
SELECT r.connection, r.stream, r.remote_id, r.external_key, r.title, r.status, r.status_category,
       r.priority, r.due_at, r.description, r.assignees, r.fields,
       r.remote_created_at, r.remote_updated_at, r.first_seen_at,
       -- a record that survived a complete scan was seen by it, without a write per record
       GREATEST(r.last_seen_at, s.last_full_scan_at) AS last_seen_at,
       r.version
FROM "elsync"."records" r
LEFT JOIN "elsync"."stream_state" s ON s.connection = r.connection AND s.stream = r.stream
WHERE r.deleted_at IS NULL;
--> statement-breakpoint
CREATE OR REPLACE VIEW "elsync"."record_history" AS
SELECT c.connection, c.stream, c.remote_id, c.version, c.op, c.changed, c.observed_at, c.source
FROM "elsync"."record_changes" c;
--> statement-breakpoint
CREATE OR REPLACE VIEW "elsync"."comments" AS
SELECT connection, stream, remote_id, comment_id, body, author, created_at, origin
FROM "elsync"."record_comments";
--> statement-breakpoint
CREATE OR REPLACE VIEW "elsync"."attachments" AS
SELECT connection, stream, remote_id, attachment_id, filename, media_type, size, created_at
FROM "elsync"."record_attachments";
--> statement-breakpoint
CREATE OR REPLACE VIEW "elsync"."related_items" AS
SELECT connection, stream, remote_id, related_remote_id, related_stream
FROM "elsync"."record_relations";
--> statement-breakpoint
-- Per stream: last successful run, lag, the last error. Outbox backlog and open
-- conflicts join this view when the reconcile/push tables exist.
CREATE OR REPLACE VIEW "elsync"."sync_status" AS
SELECT s.connection, s.stream,
       ok.finished_at AS last_success_at,
       now() - ok.finished_at AS lag,
       last.status AS last_status,
       last.error AS last_error,
       (SELECT count(*) FROM "elsync"."sync_runs" f
         WHERE f.connection = s.connection AND f.stream = s.stream AND f.status = 'failed'
           AND f.started_at > now() - interval '24 hours') AS errors_24h,
       s.last_full_scan_at,
       (SELECT count(*) FROM "elsync"."records" r
         WHERE r.connection = s.connection AND r.stream = s.stream AND r.deleted_at IS NULL) AS live_records
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
