"""Clients of the schema registry (Apicurio's Confluent-compatible API at SCHEMA_REGISTRY_URL)."""

from __future__ import annotations

from streaming.clients.probes import http_ok
from streaming.clients.security import registry_config, registry_http
from streaming.errors import ServiceUnavailable
from streaming.settings import Settings


def registry_client(s: Settings):
    """A confluent-kafka SchemaRegistryClient on a reachable registry, or a message saying how to start it."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    problem = http_ok(f"{s.schema_registry_url}/subjects", **registry_http(s))
    if problem is not None:
        raise ServiceUnavailable("registry", s.schema_registry_url, "SCHEMA_REGISTRY_URL", problem)
    return SchemaRegistryClient(registry_config(s))
