"""Read a local Delta table's current rows without Spark: its log's JSON commits, then its Parquet files.

For tests and benchmarks that look at a running platform's tables from outside, as their readers would
(a Spark driver of their own would cost a JVM on a busy machine). Enough for the platform's tables: adds
and removes (appends, dbt's merges), no deletion vectors, no column mapping; partition columns are left
out (they are in the paths, not the files).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

from streaming.errors import ConfigError


def local_table_path(settings, table: str) -> Path:
    """Where the catalog keeps `table` ("database.name") under DELTA_STORAGE_PATH, on local disk."""
    if "://" in settings.delta_storage_path:
        raise ConfigError([f"DELTA_STORAGE_PATH={settings.delta_storage_path}: this reads local tables only"])
    return Path(settings.delta_storage_path).joinpath(*table.split("."))


def live_files(table: Path) -> list[Path]:
    """The Parquet files of the table's latest version (adds minus removes over every JSON commit)."""
    table = Path(table)
    files: dict[str, None] = {}
    log = table / "_delta_log"
    for commit in sorted(log.glob("*.json")) if log.is_dir() else []:
        for line in commit.read_text().splitlines():
            action = json.loads(line) if line.strip() else {}
            if "add" in action:
                files[action["add"]["path"]] = None
            elif "remove" in action:
                files.pop(action["remove"]["path"], None)
    paths = []
    for path in files:
        parsed = urlparse(path)
        local = Path(unquote(parsed.path)) if parsed.scheme else table / unquote(path)
        paths.append(local)
    return paths


def read_rows(table: Path, columns: list[str], partition: dict[str, str] | None = None) -> list[dict]:
    """`columns` of every current row of the table (an empty list when it does not exist yet); with
    `partition` ({column: value}), of the files in that partition only."""
    import pyarrow.parquet as pq

    wanted = {f"{k}={v}" for k, v in (partition or {}).items()}
    rows = []
    for path in live_files(Path(table)):
        if not wanted <= set(path.parts):
            continue
        rows += pq.read_table(path, columns=columns).to_pylist()
    return rows
