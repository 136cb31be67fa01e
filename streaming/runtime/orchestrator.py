"""Dagster: `dagster dev` with the project's workspace and instance configuration."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from streaming.clients.probes import http_ok
from streaming.runtime.service import Service
from streaming.settings import PROJECT_ROOT, Settings

DAGSTER_INSTANCE_CONFIG = Path(__file__).parent / "conf" / "dagster.yaml"


class Dagster(Service):
    """`dagster dev` on the code location in workspace.yaml: webserver and daemon."""

    name, title, variable = "dagster", "Dagster (dagster dev)", "DAGSTER_PORT"

    def endpoint(self, s: Settings) -> str:
        return f"http://127.0.0.1:{s.dagster_port}"

    def prepare(self, s: Settings) -> None:
        s.dagster_home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DAGSTER_INSTANCE_CONFIG, s.dagster_home / "dagster.yaml")
        # Its schedules and sensors start at once: the quality checks' first tick found no bronze table
        # (TABLE_OR_VIEW_NOT_FOUND) when `f1 init` ran after it. Topics, schemas and tables come first,
        # the same as `f1 init` makes them (idempotent; the metastore starts before Dagster).
        from streaming.clients.bootstrap import bootstrap

        for line in bootstrap(s, tables=True).report():
            print(line, flush=True)

    def env(self, s: Settings) -> dict[str, str]:
        return {**super().env(s), "DAGSTER_HOME": str(s.dagster_home)}

    def command(self, s: Settings) -> list[str]:
        return [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(s.dagster_port),
        ]

    def probe(self, s: Settings) -> str | None:
        return http_ok(f"{self.endpoint(s)}/server_info")
