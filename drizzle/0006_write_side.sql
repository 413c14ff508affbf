CREATE TABLE "elsync"."field_conflicts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mapping_id" text NOT NULL,
	"link_id" bigint NOT NULL,
	"field" text NOT NULL,
	"left_value" jsonb,
	"right_value" jsonb,
	"base" jsonb,
	"policy" text NOT NULL,
	"winner" text,
	"state" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	CONSTRAINT "field_conflicts_state" CHECK ("elsync"."field_conflicts"."state" in ('open', 'resolved')),
	CONSTRAINT "field_conflicts_winner" CHECK ("elsync"."field_conflicts"."winner" is null or "elsync"."field_conflicts"."winner" in ('left', 'right'))
);
--> statement-breakpoint
CREATE TABLE "elsync"."mapping_offsets" (
	"mapping_id" text PRIMARY KEY NOT NULL,
	"offset_txid" "xid8",
	"offset_id" bigint,
	"paused" boolean DEFAULT false NOT NULL,
	"left_connection" text,
	"left_stream" text,
	"right_connection" text,
	"right_stream" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "elsync"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mapping_id" text NOT NULL,
	"link_id" bigint NOT NULL,
	"target" text NOT NULL,
	"connection" text NOT NULL,
	"stream" text NOT NULL,
	"op" text NOT NULL,
	"remote_id" text,
	"field_values" jsonb NOT NULL,
	"marker" text,
	"decisions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"last_error_code" text,
	"last_error" text,
	"last_status" integer,
	"response_excerpt" text,
	"superseded_by" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "outbox_state" CHECK ("elsync"."outbox"."state" in ('pending', 'sent', 'failed', 'dead', 'ignored', 'superseded')),
	CONSTRAINT "outbox_op" CHECK ("elsync"."outbox"."op" in ('create', 'update', 'delete')),
	CONSTRAINT "outbox_target" CHECK ("elsync"."outbox"."target" in ('left', 'right'))
);
--> statement-breakpoint
CREATE TABLE "elsync"."record_links" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mapping_id" text NOT NULL,
	"left_remote_id" text,
	"right_remote_id" text,
	"state" text NOT NULL,
	"base" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"held_fields" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_synced_at" timestamp with time zone,
	CONSTRAINT "record_links_state" CHECK ("elsync"."record_links"."state" in ('linked', 'creating', 'unlinked')),
	CONSTRAINT "record_links_one_side" CHECK ("elsync"."record_links"."left_remote_id" is not null or "elsync"."record_links"."right_remote_id" is not null)
);
--> statement-breakpoint
ALTER TABLE "elsync"."field_conflicts" ADD CONSTRAINT "field_conflicts_link_id_record_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "elsync"."record_links"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "elsync"."outbox" ADD CONSTRAINT "outbox_link_id_record_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "elsync"."record_links"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "field_conflicts_open" ON "elsync"."field_conflicts" USING btree ("link_id","field") WHERE "elsync"."field_conflicts"."state" = 'open';--> statement-breakpoint
CREATE INDEX "field_conflicts_mapping" ON "elsync"."field_conflicts" USING btree ("mapping_id","state");--> statement-breakpoint
CREATE INDEX "outbox_ready" ON "elsync"."outbox" USING btree ("id") WHERE "elsync"."outbox"."state" in ('pending', 'failed');--> statement-breakpoint
CREATE INDEX "outbox_link" ON "elsync"."outbox" USING btree ("link_id","target","id");--> statement-breakpoint
CREATE INDEX "outbox_stream" ON "elsync"."outbox" USING btree ("connection","stream","state");--> statement-breakpoint
CREATE UNIQUE INDEX "record_links_left" ON "elsync"."record_links" USING btree ("mapping_id","left_remote_id") WHERE "elsync"."record_links"."left_remote_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "record_links_right" ON "elsync"."record_links" USING btree ("mapping_id","right_remote_id") WHERE "elsync"."record_links"."right_remote_id" is not null;--> statement-breakpoint
-- Views of the write side for analysts (DESIGN.md section 4). Columns may be added, never renamed.
-- Links between records of a mapping's two streams; the first five columns are the documented ones.
CREATE OR REPLACE VIEW "elsync"."links" AS
SELECT l.mapping_id, l.left_remote_id, l.right_remote_id, l.created_at, l.last_synced_at,
       l.state, l.id AS link_id, l.held_fields,
       m.left_connection, m.left_stream, m.right_connection, m.right_stream
FROM "elsync"."record_links" l
LEFT JOIN "elsync"."mapping_offsets" m ON m.mapping_id = l.mapping_id;
--> statement-breakpoint
CREATE OR REPLACE VIEW "elsync"."conflicts" AS
SELECT c.id AS conflict_id, c.mapping_id, c.link_id, l.left_remote_id, l.right_remote_id, c.field,
       c.left_value, c.right_value, c.base, c.policy, c.winner, c.state,
       c.created_at, c.resolved_at, c.resolved_by
FROM "elsync"."field_conflicts" c
JOIN "elsync"."record_links" l ON l.id = c.link_id;
--> statement-breakpoint
-- The write ledger: every write reconcile asked for, what was sent and what the API answered.
CREATE OR REPLACE VIEW "elsync"."writes" AS
SELECT o.id AS write_id, o.mapping_id, o.link_id, o.target, o.connection, o.stream, o.remote_id, o.op,
       ARRAY(SELECT k FROM jsonb_object_keys(o.field_values) AS k ORDER BY k) AS fields,
       o.field_values, o.state, o.attempts, o.last_status AS api_status, o.response_excerpt,
       o.last_error_code AS error_code, o.last_error, o.decisions, o.superseded_by,
       o.created_at, o.updated_at, o.sent_at, o.next_attempt_at
FROM "elsync"."outbox" o;
--> statement-breakpoint
-- One row per linked record and mapping. A write is failing while it waits for a retry, or is dead
-- and no later write of its link to the same side went through.
CREATE OR REPLACE VIEW "elsync"."record_sync_state" AS
WITH open_writes AS (
  SELECT o.id, o.link_id, o.state, o.last_error_code, o.last_error,
         o.state = 'failed' OR (o.state = 'dead' AND NOT EXISTS (
           SELECT 1 FROM "elsync"."outbox" n
           WHERE n.link_id = o.link_id AND n.target = o.target AND n.id > o.id AND n.state = 'sent')) AS failing
  FROM "elsync"."outbox" o
  WHERE o.state IN ('pending', 'failed', 'dead')
), per_link AS (
  SELECT link_id,
         count(*) FILTER (WHERE state IN ('pending', 'failed')) AS pending_writes,
         count(*) FILTER (WHERE failing) AS failing_writes,
         (array_agg(concat_ws(': ', last_error_code, last_error) ORDER BY id DESC) FILTER (WHERE failing))[1] AS last_error
  FROM open_writes
  GROUP BY link_id
), open_conflicts AS (
  SELECT link_id, count(*) AS open_conflicts FROM "elsync"."field_conflicts" WHERE state = 'open' GROUP BY link_id
)
SELECT s.connection, s.stream, s.remote_id, l.mapping_id, s.side, l.id AS link_id,
       s.counterpart_connection, s.counterpart_stream, s.counterpart_id,
       CASE WHEN l.state = 'unlinked' THEN 'unlinked'
            WHEN coalesce(w.failing_writes, 0) > 0 THEN 'error'
            WHEN coalesce(c.open_conflicts, 0) > 0 THEN 'conflict'
            WHEN l.state = 'creating' OR coalesce(w.pending_writes, 0) > 0 THEN 'pending'
            ELSE 'linked' END AS sync_state,
       coalesce(w.pending_writes, 0) AS pending_writes,
       coalesce(c.open_conflicts, 0) AS open_conflicts,
       w.last_error, l.last_synced_at
FROM "elsync"."record_links" l
LEFT JOIN "elsync"."mapping_offsets" m ON m.mapping_id = l.mapping_id
LEFT JOIN per_link w ON w.link_id = l.id
LEFT JOIN open_conflicts c ON c.link_id = l.id
CROSS JOIN LATERAL (VALUES
  ('left', m.left_connection, m.left_stream, l.left_remote_id, m.right_connection, m.right_stream, l.right_remote_id),
  ('right', m.right_connection, m.right_stream, l.right_remote_id, m.left_connection, m.left_stream, l.left_remote_id)
) AS s(side, connection, stream, remote_id, counterpart_connection, counterpart_stream, counterpart_id)
WHERE s.remote_id IS NOT NULL;
--> statement-breakpoint
-- sync_status as in 0001_analyst_views, with the outbox backlog and open conflicts appended
-- (CREATE OR REPLACE VIEW keeps existing columns in place and may only add new ones at the end).
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
