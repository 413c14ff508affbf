DROP INDEX "elsync"."record_changes_stream";--> statement-breakpoint
DROP INDEX "elsync"."records_external_key";--> statement-breakpoint
ALTER TABLE "elsync"."record_changes" ADD COLUMN "run_id" bigint;--> statement-breakpoint
ALTER TABLE "elsync"."record_changes" ADD COLUMN "outbox_id" bigint;--> statement-breakpoint
ALTER TABLE "elsync"."record_changes" ADD COLUMN "txid" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
CREATE INDEX "record_changes_feed" ON "elsync"."record_changes" USING btree ("txid","id");--> statement-breakpoint
CREATE INDEX "record_changes_stream_feed" ON "elsync"."record_changes" USING btree ("connection","stream","txid","id");--> statement-breakpoint
CREATE INDEX "records_external_key" ON "elsync"."records" USING btree ("connection","stream","external_key") WHERE "elsync"."records"."external_key" is not null;--> statement-breakpoint
-- What caused each change, for analysts (columns are only ever added to this view).
CREATE OR REPLACE VIEW "elsync"."record_history" AS
SELECT c.connection, c.stream, c.remote_id, c.version, c.op, c.changed, c.observed_at, c.source, c.run_id, c.outbox_id
FROM "elsync"."record_changes" c;
