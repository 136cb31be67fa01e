"""Register the contracts in the registry (`f1 init`) and check changes against it (`f1 contracts check`).

Every subject has compatibility BACKWARD: consumers on the new schema must read data written with the
previous one, so a contract change can be deployed before its producers are.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.error import SchemaRegistryError

from streaming.contracts import CONTRACTS, Contract
from streaming.registry import registry_client
from streaming.settings import Settings

COMPATIBILITY = "BACKWARD"


def register_contracts(s: Settings, contracts: tuple[Contract, ...] = CONTRACTS) -> dict[str, int]:
    """Set BACKWARD compatibility and register each contract; returns {subject: schema id}. Idempotent."""
    client = registry_client(s)
    ids = {}
    for contract in contracts:
        client.set_compatibility(contract.subject, COMPATIBILITY)
        ids[contract.subject] = client.register_schema(
            contract.subject, Schema(contract.registry_text(), contract.schema_type)
        )
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
        text = contract.registry_text((texts or {}).get(contract.subject))
        schema = Schema(text, contract.schema_type)
        try:
            client.get_latest_version(contract.subject)
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
