-- silver.sessions: one row per session, the latest record of the compacted f1.sessions topic.
-- Silver upserts it when a batch brings a session it has not seen; events are enriched from it.
CREATE TABLE IF NOT EXISTS silver.sessions (
  session_id STRING NOT NULL,
  circuit STRING,
  circuit_length_m DOUBLE,
  session_type STRING COMMENT 'PRACTICE, QUALIFYING, SPRINT or RACE',
  session_date DATE,
  start_time TIMESTAMP,
  start_time_unix_ns BIGINT,
  total_laps INT,
  sector_end_m ARRAY<DOUBLE> COMMENT 'lap distance at the end of sectors 1 and 2',
  seed BIGINT COMMENT 'simulator seed; 0 for real or recorded sessions',
  entries ARRAY<STRUCT<car_number: INT, driver_code: STRING, driver_name: STRING, team: STRING>>,
  updated_at TIMESTAMP NOT NULL
)
USING delta
LOCATION '${DELTA_STORAGE_PATH}/silver/sessions';
