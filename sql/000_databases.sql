-- The medallion databases of the shared table catalog. Tables live under DELTA_STORAGE_PATH,
-- one folder per database. Applied by `f1 init` (idempotent).
CREATE DATABASE IF NOT EXISTS bronze COMMENT 'Raw telemetry events as they came from Kafka' LOCATION '${DELTA_STORAGE_PATH}/bronze';
CREATE DATABASE IF NOT EXISTS silver COMMENT 'Validated, deduplicated, flattened and enriched events' LOCATION '${DELTA_STORAGE_PATH}/silver';
CREATE DATABASE IF NOT EXISTS gold COMMENT 'Lap, session and stint metrics built by dbt' LOCATION '${DELTA_STORAGE_PATH}/gold';
