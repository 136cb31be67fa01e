-- bronze.telemetry: every record of the raw topics, both encodings, as it came from Kafka.
-- Undecodable records land too, with decode_error set (and a copy goes to the DLQ topic).
-- Generated from proto/ by `f1 contracts generate` (streaming/contracts/tables.py).
-- Do not edit: change the contract and regenerate.
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
  position STRUCT<x_m: DOUBLE, y_m: DOUBLE, z_m: DOUBLE, lap_number: BIGINT, lap_distance_m: DOUBLE, track_status: STRING, race_position: BIGINT, in_pit_lane: BOOLEAN> COMMENT 'the payload as sent when event_type = position',
  dynamics STRUCT<speed_kmh: DOUBLE, throttle_pct: DOUBLE, brake_pct: DOUBLE, gear: BIGINT, engine_rpm: DOUBLE, steering_angle_deg: DOUBLE, lateral_g: DOUBLE, longitudinal_g: DOUBLE> COMMENT 'the payload as sent when event_type = dynamics',
  power_unit STRUCT<ice_rpm: DOUBLE, mgu_k_power_kw: DOUBLE, mgu_h_power_kw: DOUBLE, ers_store_energy_kj: DOUBLE, ers_deploy_mode: STRING, fuel_remaining_kg: DOUBLE, oil_temp_c: DOUBLE, water_temp_c: DOUBLE> COMMENT 'the payload as sent when event_type = power_unit',
  tire STRUCT<corner: STRING, compound: STRING, surface_temp_c: DOUBLE, inner_temp_c: DOUBLE, pressure_kpa: DOUBLE, wear_pct: DOUBLE, age_laps: BIGINT> COMMENT 'the payload as sent when event_type = tire',
  aerodynamics STRUCT<drs_state: STRING, front_wing_angle_deg: DOUBLE, rear_wing_angle_deg: DOUBLE, downforce_n: DOUBLE, drag_n: DOUBLE> COMMENT 'the payload as sent when event_type = aerodynamics',
  system STRUCT<kind: STRING, flag: STRING, fault_code: STRING, message: STRING, engine_mode: BIGINT, pit_stop_duration_s: DOUBLE, new_compound: STRING, lap_number: BIGINT> COMMENT 'the payload as sent when event_type = system',
  ingested_at TIMESTAMP NOT NULL,
  session_date DATE NOT NULL COMMENT 'UTC date of the event (of the Kafka timestamp when undecodable)',
  decode_reason STRING COMMENT 'reason code of decode_error (streaming/jobs/validation.py REASONS): undecodable, schema_violation, event_type_mismatch, out_of_range, batch_failed'
)
USING delta
-- Liquid clustering, not partitions: a micro-batch lands one file (partitions by date and event
-- type made seven), and OPTIMIZE clusters the files by date and event type for readers.
CLUSTER BY (session_date, event_type)
LOCATION '${DELTA_STORAGE_PATH}/bronze/telemetry'
TBLPROPERTIES (
  'delta.appendOnly' = 'true',
  'delta.autoOptimize.optimizeWrite' = 'false',
  -- stats on what readers filter by (clustering columns must have them), not on bytes or payloads
  'delta.dataSkippingStatsColumns' = 'session_date,event_type,kafka_topic,session_id,event_time,ingested_at',
  -- a checkpoint rebuilds the table's state inside the committing micro-batch: every 50th commit
  'delta.checkpointInterval' = '50',
  'delta.enableChangeDataFeed' = 'false'
);
