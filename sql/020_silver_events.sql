-- silver.<event_type>: validated, deduplicated, flattened events with their session context.
-- Generated from proto/ by `f1 contracts generate` (streaming/contracts/tables.py).
-- Do not edit: change the contract and regenerate.
-- Enum columns hold the value's short name (TIRE_COMPOUND_SOFT is stored as SOFT).
CREATE TABLE IF NOT EXISTS silver.position (
  event_id STRING NOT NULL COMMENT 'UUID of the event, unique in the table',
  session_id STRING NOT NULL COMMENT 'key of silver.sessions',
  car_number INT NOT NULL,
  event_time TIMESTAMP NOT NULL COMMENT 'when the car measured it (UTC, microseconds)',
  event_time_unix_ns BIGINT NOT NULL COMMENT 'the same, in nanoseconds as sent',
  producer_time_unix_ns BIGINT,
  sequence BIGINT NOT NULL COMMENT 'per car, +1 per event',
  x_m DOUBLE NOT NULL,
  y_m DOUBLE NOT NULL,
  z_m DOUBLE NOT NULL,
  lap_number INT NOT NULL,
  lap_distance_m DOUBLE NOT NULL,
  track_status STRING NOT NULL,
  race_position INT NOT NULL,
  in_pit_lane BOOLEAN NOT NULL,
  circuit STRING COMMENT 'from the session metadata',
  session_type STRING COMMENT 'RACE, QUALIFYING, ...',
  driver_code STRING COMMENT 'three letters, from the entry list',
  driver_name STRING,
  team STRING,
  encoding STRING NOT NULL COMMENT 'protobuf or json',
  kafka_topic STRING NOT NULL,
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  ingested_at TIMESTAMP NOT NULL COMMENT 'when bronze landed it',
  validated_at TIMESTAMP NOT NULL COMMENT 'when silver accepted it',
  session_date DATE NOT NULL COMMENT 'the session''s date (UTC), a partition column'
)
USING delta
CLUSTER BY (session_date, car_number)
LOCATION '${DELTA_STORAGE_PATH}/silver/position'
TBLPROPERTIES (
  'delta.appendOnly' = 'true',
  'delta.autoOptimize.optimizeWrite' = 'false',
  'delta.checkpointInterval' = '50',
  'delta.dataSkippingStatsColumns' = 'session_date,car_number,session_id,event_time,sequence,validated_at'
);

CREATE TABLE IF NOT EXISTS silver.dynamics (
  event_id STRING NOT NULL COMMENT 'UUID of the event, unique in the table',
  session_id STRING NOT NULL COMMENT 'key of silver.sessions',
  car_number INT NOT NULL,
  event_time TIMESTAMP NOT NULL COMMENT 'when the car measured it (UTC, microseconds)',
  event_time_unix_ns BIGINT NOT NULL COMMENT 'the same, in nanoseconds as sent',
  producer_time_unix_ns BIGINT,
  sequence BIGINT NOT NULL COMMENT 'per car, +1 per event',
  speed_kmh DOUBLE NOT NULL,
  throttle_pct DOUBLE NOT NULL,
  brake_pct DOUBLE NOT NULL,
  gear INT NOT NULL,
  engine_rpm DOUBLE NOT NULL,
  steering_angle_deg DOUBLE NOT NULL,
  lateral_g DOUBLE NOT NULL,
  longitudinal_g DOUBLE NOT NULL,
  circuit STRING COMMENT 'from the session metadata',
  session_type STRING COMMENT 'RACE, QUALIFYING, ...',
  driver_code STRING COMMENT 'three letters, from the entry list',
  driver_name STRING,
  team STRING,
  encoding STRING NOT NULL COMMENT 'protobuf or json',
  kafka_topic STRING NOT NULL,
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  ingested_at TIMESTAMP NOT NULL COMMENT 'when bronze landed it',
  validated_at TIMESTAMP NOT NULL COMMENT 'when silver accepted it',
  session_date DATE NOT NULL COMMENT 'the session''s date (UTC), a partition column'
)
USING delta
CLUSTER BY (session_date, car_number)
LOCATION '${DELTA_STORAGE_PATH}/silver/dynamics'
TBLPROPERTIES (
  'delta.appendOnly' = 'true',
  'delta.autoOptimize.optimizeWrite' = 'false',
  'delta.checkpointInterval' = '50',
  'delta.dataSkippingStatsColumns' = 'session_date,car_number,session_id,event_time,sequence,validated_at'
);

CREATE TABLE IF NOT EXISTS silver.power_unit (
  event_id STRING NOT NULL COMMENT 'UUID of the event, unique in the table',
  session_id STRING NOT NULL COMMENT 'key of silver.sessions',
  car_number INT NOT NULL,
  event_time TIMESTAMP NOT NULL COMMENT 'when the car measured it (UTC, microseconds)',
  event_time_unix_ns BIGINT NOT NULL COMMENT 'the same, in nanoseconds as sent',
  producer_time_unix_ns BIGINT,
  sequence BIGINT NOT NULL COMMENT 'per car, +1 per event',
  ice_rpm DOUBLE NOT NULL,
  mgu_k_power_kw DOUBLE NOT NULL,
  mgu_h_power_kw DOUBLE NOT NULL,
  ers_store_energy_kj DOUBLE NOT NULL,
  ers_deploy_mode STRING NOT NULL,
  fuel_remaining_kg DOUBLE NOT NULL,
  oil_temp_c DOUBLE NOT NULL,
  water_temp_c DOUBLE NOT NULL,
  circuit STRING COMMENT 'from the session metadata',
  session_type STRING COMMENT 'RACE, QUALIFYING, ...',
  driver_code STRING COMMENT 'three letters, from the entry list',
  driver_name STRING,
  team STRING,
  encoding STRING NOT NULL COMMENT 'protobuf or json',
  kafka_topic STRING NOT NULL,
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  ingested_at TIMESTAMP NOT NULL COMMENT 'when bronze landed it',
  validated_at TIMESTAMP NOT NULL COMMENT 'when silver accepted it',
  session_date DATE NOT NULL COMMENT 'the session''s date (UTC), a partition column'
)
USING delta
CLUSTER BY (session_date, car_number)
LOCATION '${DELTA_STORAGE_PATH}/silver/power_unit'
TBLPROPERTIES (
  'delta.appendOnly' = 'true',
  'delta.autoOptimize.optimizeWrite' = 'false',
  'delta.checkpointInterval' = '50',
  'delta.dataSkippingStatsColumns' = 'session_date,car_number,session_id,event_time,sequence,validated_at'
);

CREATE TABLE IF NOT EXISTS silver.tire (
  event_id STRING NOT NULL COMMENT 'UUID of the event, unique in the table',
  session_id STRING NOT NULL COMMENT 'key of silver.sessions',
  car_number INT NOT NULL,
  event_time TIMESTAMP NOT NULL COMMENT 'when the car measured it (UTC, microseconds)',
  event_time_unix_ns BIGINT NOT NULL COMMENT 'the same, in nanoseconds as sent',
  producer_time_unix_ns BIGINT,
  sequence BIGINT NOT NULL COMMENT 'per car, +1 per event',
  corner STRING NOT NULL,
  compound STRING NOT NULL,
  surface_temp_c DOUBLE NOT NULL,
  inner_temp_c DOUBLE NOT NULL,
  pressure_kpa DOUBLE NOT NULL,
  wear_pct DOUBLE NOT NULL,
  age_laps INT NOT NULL,
  circuit STRING COMMENT 'from the session metadata',
  session_type STRING COMMENT 'RACE, QUALIFYING, ...',
  driver_code STRING COMMENT 'three letters, from the entry list',
  driver_name STRING,
  team STRING,
  encoding STRING NOT NULL COMMENT 'protobuf or json',
  kafka_topic STRING NOT NULL,
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  ingested_at TIMESTAMP NOT NULL COMMENT 'when bronze landed it',
  validated_at TIMESTAMP NOT NULL COMMENT 'when silver accepted it',
  session_date DATE NOT NULL COMMENT 'the session''s date (UTC), a partition column'
)
USING delta
CLUSTER BY (session_date, car_number)
LOCATION '${DELTA_STORAGE_PATH}/silver/tire'
TBLPROPERTIES (
  'delta.appendOnly' = 'true',
  'delta.autoOptimize.optimizeWrite' = 'false',
  'delta.checkpointInterval' = '50',
  'delta.dataSkippingStatsColumns' = 'session_date,car_number,session_id,event_time,sequence,validated_at'
);

CREATE TABLE IF NOT EXISTS silver.aerodynamics (
  event_id STRING NOT NULL COMMENT 'UUID of the event, unique in the table',
  session_id STRING NOT NULL COMMENT 'key of silver.sessions',
  car_number INT NOT NULL,
  event_time TIMESTAMP NOT NULL COMMENT 'when the car measured it (UTC, microseconds)',
  event_time_unix_ns BIGINT NOT NULL COMMENT 'the same, in nanoseconds as sent',
  producer_time_unix_ns BIGINT,
  sequence BIGINT NOT NULL COMMENT 'per car, +1 per event',
  drs_state STRING NOT NULL,
  front_wing_angle_deg DOUBLE NOT NULL,
  rear_wing_angle_deg DOUBLE NOT NULL,
  downforce_n DOUBLE NOT NULL,
  drag_n DOUBLE NOT NULL,
  circuit STRING COMMENT 'from the session metadata',
  session_type STRING COMMENT 'RACE, QUALIFYING, ...',
  driver_code STRING COMMENT 'three letters, from the entry list',
  driver_name STRING,
  team STRING,
  encoding STRING NOT NULL COMMENT 'protobuf or json',
  kafka_topic STRING NOT NULL,
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  ingested_at TIMESTAMP NOT NULL COMMENT 'when bronze landed it',
  validated_at TIMESTAMP NOT NULL COMMENT 'when silver accepted it',
  session_date DATE NOT NULL COMMENT 'the session''s date (UTC), a partition column'
)
USING delta
CLUSTER BY (session_date, car_number)
LOCATION '${DELTA_STORAGE_PATH}/silver/aerodynamics'
TBLPROPERTIES (
  'delta.appendOnly' = 'true',
  'delta.autoOptimize.optimizeWrite' = 'false',
  'delta.checkpointInterval' = '50',
  'delta.dataSkippingStatsColumns' = 'session_date,car_number,session_id,event_time,sequence,validated_at'
);

CREATE TABLE IF NOT EXISTS silver.system (
  event_id STRING NOT NULL COMMENT 'UUID of the event, unique in the table',
  session_id STRING NOT NULL COMMENT 'key of silver.sessions',
  car_number INT NOT NULL,
  event_time TIMESTAMP NOT NULL COMMENT 'when the car measured it (UTC, microseconds)',
  event_time_unix_ns BIGINT NOT NULL COMMENT 'the same, in nanoseconds as sent',
  producer_time_unix_ns BIGINT,
  sequence BIGINT NOT NULL COMMENT 'per car, +1 per event',
  kind STRING NOT NULL,
  flag STRING,
  fault_code STRING,
  message STRING,
  engine_mode INT,
  pit_stop_duration_s DOUBLE,
  new_compound STRING,
  lap_number INT NOT NULL,
  circuit STRING COMMENT 'from the session metadata',
  session_type STRING COMMENT 'RACE, QUALIFYING, ...',
  driver_code STRING COMMENT 'three letters, from the entry list',
  driver_name STRING,
  team STRING,
  encoding STRING NOT NULL COMMENT 'protobuf or json',
  kafka_topic STRING NOT NULL,
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  ingested_at TIMESTAMP NOT NULL COMMENT 'when bronze landed it',
  validated_at TIMESTAMP NOT NULL COMMENT 'when silver accepted it',
  session_date DATE NOT NULL COMMENT 'the session''s date (UTC), a partition column'
)
USING delta
CLUSTER BY (session_date, car_number)
LOCATION '${DELTA_STORAGE_PATH}/silver/system'
TBLPROPERTIES (
  'delta.appendOnly' = 'true',
  'delta.autoOptimize.optimizeWrite' = 'false',
  'delta.checkpointInterval' = '50',
  'delta.dataSkippingStatsColumns' = 'session_date,car_number,session_id,event_time,sequence,validated_at'
);
