"""Register the contracts in the registry (`f1 init`) and check changes against it (`f1 contracts check`).

Every subject has compatibility BACKWARD: consumers on the new schema must read data written with the
previous one, so a contract change can be deployed before its producers are.

A contract that imports others (enriched.proto) is registered with schema references to the versions of
their subjects that hold the working tree's text, so they are registered first (CONTRACTS' order).
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka.schema_registry import Schema, SchemaReference
from confluent_kafka.schema_registry.error import SchemaRegistryError

from streaming.clients.registry import registry_client
from streaming.contracts import CONTRACTS, Contract
from streaming.settings import Settings

COMPATIBILITY = "BACKWARD"


def _schema(
    client, contract: Contract, text: str | None = None, *, latest_if_unknown: bool = False
) -> Schema:
    """The contract as a registry Schema, with references to the registered versions of its imports.

    A reference names the version whose text is the working tree's; `latest_if_unknown` (for checks,
    where an import may be changed and not registered yet) falls back to the import's latest version.
    """
    references = []
    for imported in contract.references:
        try:
            version = client.lookup_schema(imported.subject, _schema(client, imported)).version
        except SchemaRegistryError:
            if not latest_if_unknown:
                raise
            version = client.get_latest_version(imported.subject).version
        references.append(SchemaReference(imported.source, imported.subject, version))
    return Schema(contract.registry_text(text), contract.schema_type, references)


def register_contracts(s: Settings, contracts: tuple[Contract, ...] = CONTRACTS) -> dict[str, int]:
    """Set BACKWARD compatibility and register each contract; returns {subject: schema id}. Idempotent."""
    client = registry_client(s)
    ids = {}
    for contract in contracts:
        client.set_compatibility(contract.subject, COMPATIBILITY)
        ids[contract.subject] = client.register_schema(contract.subject, _schema(client, contract))
    return ids


def schema_ids(s: Settings, contracts: tuple[Contract, ...] = CONTRACTS) -> dict[str, int]:
    """{subject: id of the latest registered schema}; a clear error if `make init` has not run."""
    client = registry_client(s)
    ids = {}
    for contract in contracts:
        try:
            ids[contract.subject] = client.get_latest_version(contract.subject).schema_id
        except SchemaRegistryError as error:
            raise SchemaRegistryError(
                error.http_status_code,
                error.error_code,
                f"subject {contract.subject} is not registered ({error.error_message}); run `make init`",
            ) from None
    return ids


@dataclass(frozen=True)
class CompatibilityResult:
    subject: str
    compatible: bool
    detail: str


def check_contracts(
    s: Settings, contracts: tuple[Contract, ...] = CONTRACTS, texts: dict[str, str] | None = None
) -> list[CompatibilityResult]:
    """Test the working tree's contracts (or `texts` by subject) against the latest registered versions."""
    client = registry_client(s)
    results = []
    for contract in contracts:
        try:
            client.get_latest_version(contract.subject)
            schema = _schema(client, contract, (texts or {}).get(contract.subject), latest_if_unknown=True)
        except SchemaRegistryError:
            results.append(
                CompatibilityResult(contract.subject, True, "not registered yet: will be version 1")
            )
            continue
        ok = client.test_compatibility(contract.subject, schema)
        detail = (
            f"{COMPATIBILITY}-compatible with the latest version"
            if ok
            else f"breaks {COMPATIBILITY} compatibility"
        )
        results.append(CompatibilityResult(contract.subject, ok, detail))
    return results
