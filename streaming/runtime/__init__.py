"""The local runtime: Kafka, schema registry, metastore, Prometheus and Dagster as supervised processes."""
