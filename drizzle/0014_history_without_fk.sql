ALTER TABLE "elsync"."record_changes" DROP CONSTRAINT "record_changes_record_id_records_id_fk";
