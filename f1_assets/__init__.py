"""The Dagster layer of f1-telemetry: thin wiring of the functions in `streaming/` into assets,
jobs, sensors and checks. Nothing here reimplements streaming logic."""
