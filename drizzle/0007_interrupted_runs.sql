-- sync_status: errors_24h counts every run of the last 24 hours that did not succeed:
-- failed, abandoned (the process died mid-run) and interrupted (stopped by a signal or a
-- shutdown). Same columns, same order as 0006.
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
             OR (m.right_connection = s.connection AND m.right_stream = s.stream))) AS open_conflicts
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
