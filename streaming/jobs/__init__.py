"""Spark jobs of the platform: pure PySpark, no Dagster."""
