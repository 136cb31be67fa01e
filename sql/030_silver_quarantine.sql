-- silver.quarantine: every record that failed validation, with the rule that failed and the original bytes.
-- Nothing is dropped silently: bronze = silver + quarantine + duplicates removed.
CREATE TABLE IF NOT EXISTS silver.quarantine (
  reason STRING NOT NULL COMMENT 'code of the first rule that failed (streaming/jobs/validation.py)',
  reason_detail STRING COMMENT 'which field and value, for people',
  event_id STRING,
  session_id STRING,
  car_number INT,
  event_type STRING NOT NULL COMMENT 'position, dynamics, ..., missing or undecodable',
  event_time TIMESTAMP,
  encoding STRING NOT NULL,
  schema_id INT,
  raw_value BINARY COMMENT 'the record exactly as it came from Kafka',
  payload_json STRING,
  kafka_topic STRING NOT NULL,
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  kafka_timestamp TIMESTAMP NOT NULL,
  ingested_at TIMESTAMP NOT NULL,
  quarantined_at TIMESTAMP NOT NULL,
  session_date DATE NOT NULL COMMENT 'UTC date of the event (of the Kafka timestamp when unknown)'
)
USING delta
PARTITIONED BY (session_date)
LOCATION '${DELTA_STORAGE_PATH}/silver/quarantine'
TBLPROPERTIES ('delta.appendOnly' = 'true', 'delta.checkpointInterval' = '50');
