"""Kafka topics as Dagster assets."""
