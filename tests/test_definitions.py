"""The Dagster code location loads, validates, and shows the platform's topics as assets."""

from __future__ import annotations

import subprocess
import sys

from f1_assets.definitions import defs
from f1_assets.kafka.assets import topic_asset_key
from streaming import topics
from streaming.settings import PROJECT_ROOT


def test_every_platform_topic_is_a_kafka_asset():
    specs = {spec.key: spec for spec in defs.resolve_all_asset_specs()}
    for topic in (topics.RAW_PROTOBUF, topics.RAW_JSON, topics.SESSIONS, topics.ENRICHED, topics.DLQ):
        spec = specs[topic_asset_key(topic)]
        assert spec.kinds == {"kafka"}
        assert spec.metadata["topic"] == topic


def test_dagster_definitions_validate():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "definitions",
            "validate",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_streaming_never_imports_dagster():
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "streaming").rglob("*.py")
        if any(
            line.lstrip().startswith(("import dagster", "from dagster"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []
