"""Clients of the running services: the Spark session and its jars, the schema registry, Kafka admin, the
table catalog, dbt, Dagster's GraphQL API, the security profile's client settings, and small probes of a
service's port."""
