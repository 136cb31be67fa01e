"""Clients of the running services: the Spark session and its jars, the schema registry, Kafka admin, the
table catalog, dbt, the security profile's client settings, and small probes of a service's port."""
