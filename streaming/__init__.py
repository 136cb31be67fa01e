"""The platform's pure Python and PySpark side; it never imports Dagster (f1_assets/ wires it in).

settings/       every variable once, its parser, the settings object
contracts/      proto-derived names, topics, table schemas, the one list of event types
clients/        clients of the running services: Spark, registry, Kafka admin, catalog, dbt, probes
jobs/           the Spark pipeline: bronze, silver, validation, sessions, the stream runner
simulator/      the race simulator and replay
observability/  the stream drivers' metrics, the Grafana dashboards as code
runtime/        starting and supervising the local services, one module per service
bench/          benchmarks (`f1 bench`)
cli.py          the `f1` command;  errors.py  errors that name the fix
"""
