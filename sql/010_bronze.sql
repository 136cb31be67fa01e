-- bronze.telemetry: every record of the raw topics, both encodings, as it came from Kafka.
-- Undecodable records land too, with decode_error set (and a copy goes to the DLQ topic).
CREATE TABLE IF NOT EXISTS bronze.telemetry (
  kafka_topic STRING NOT NULL,
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  kafka_timestamp TIMESTAMP NOT NULL,
  kafka_key STRING,
  raw_value BINARY,
  encoding STRING NOT NULL COMMENT 'protobuf or json, from the topic',
  schema_id INT COMMENT 'from the Confluent wire-format header',
  decode_error STRING COMMENT 'why the record cannot be read as its contract says (null: it can); see decode_reason',
  event_id STRING,
  session_id STRING,
  car_number INT,
  event_type STRING NOT NULL COMMENT 'position, dynamics, ... or undecodable',
  event_time TIMESTAMP,
  event_time_unix_ns BIGINT,
  producer_time_unix_ns BIGINT,
  sequence BIGINT,
  payload_json STRING COMMENT 'the payload object as JSON (JSON encoding of the contract)',
  ingested_at TIMESTAMP NOT NULL,
  session_date DATE NOT NULL COMMENT 'UTC date of the event (of the Kafka timestamp when undecodable)',
  decode_reason STRING COMMENT 'reason code of decode_error (streaming/jobs/validation.py REASONS): undecodable, schema_violation, event_type_mismatch, out_of_range, batch_failed'
)
USING delta
-- Liquid clustering, not partitions: a micro-batch lands one file (partitions by date and event type made
-- seven), and OPTIMIZE clusters the files by date and event type incrementally for readers.
CLUSTER BY (session_date, event_type)
LOCATION '${DELTA_STORAGE_PATH}/bronze/telemetry'
TBLPROPERTIES (
  'delta.appendOnly' = 'true',
  'delta.autoOptimize.optimizeWrite' = 'false',
  -- stats on what readers filter by (the clustering columns must have them), not on the raw bytes and text
  'delta.dataSkippingStatsColumns' = 'session_date,event_type,kafka_topic,session_id,event_time,ingested_at',
  -- a checkpoint rebuilds the table's state inside the committing micro-batch: every 50th commit, not 10th
  'delta.checkpointInterval' = '50',
  'delta.enableChangeDataFeed' = 'false'
);
