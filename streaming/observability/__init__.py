"""Observability: the stream drivers' Prometheus metrics, and the Grafana dashboards as code."""
