"""The platform's one initialisation sequence: topics, contracts in the registry, and the catalog's tables.

`f1 init`, the simulator and streams services, and every stream run call it before they start; each
step is idempotent, so calling it again is cheap and safe.
"""

from __future__ import annotations

import fcntl
from dataclasses import dataclass, field

from streaming.settings import Settings


@dataclass(frozen=True)
class Bootstrap:
    topics: dict[str, str]  # topic -> "created" / "exists"
    schemas: dict[str, int]  # subject -> schema id
    databases: tuple[str, ...] = field(default=())

    def report(self) -> list[str]:
        """What was made or found, a line each (what `f1 init` prints)."""
        return [
            *(f"topic {topic}: {state}" for topic, state in self.topics.items()),
            *(f"schema {subject}: id {schema_id} (BACKWARD)" for subject, schema_id in self.schemas.items()),
            *(f"database {database}: ready" for database in self.databases),
        ]


def bootstrap(s: Settings, *, tables: bool = True, spark=None) -> Bootstrap:
    """Create the topics, register the contracts and (with `tables`) create the databases and tables."""
    from streaming.clients.catalog import create_databases
    from streaming.clients.kafka_admin import create_topics
    from streaming.clients.registration import register_contracts

    # Processes starting together (the stream runs, `f1 init`) would race to create the same Delta table
    # in an empty folder, which Delta refuses (ProtocolChangedException): one at a time on this host.
    lock_path = s.run_dir / "bootstrap.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        topics = create_topics(s)
        schemas = register_contracts(s)
        databases = create_databases(s, spark) if tables else ()
    return Bootstrap(topics, schemas, databases)
