"""The table catalog's databases (bronze, silver, gold), created from the DDL in sql/."""

from __future__ import annotations

import re

from streaming.settings import PROJECT_ROOT, Settings

SQL_DIR = PROJECT_ROOT / "sql"
DATABASES = ("bronze", "silver", "gold")


def render_sql(s: Settings, text: str) -> list[str]:
    """Statements of a sql/ file, with ${DELTA_STORAGE_PATH} filled in.

    A statement ends with ';' at the end of a line, so comments may hold semicolons.
    """
    text = text.replace("${DELTA_STORAGE_PATH}", s.delta_storage_path)
    lines = [line for line in text.splitlines() if not line.strip().startswith("--")]
    return [stmt.strip() for stmt in re.split(r";[ \t]*$", "\n".join(lines), flags=re.M) if stmt.strip()]


def create_databases(s: Settings, spark=None) -> tuple[str, ...]:
    """Apply every sql/*.sql file in order: databases first, then tables. Idempotent.

    Uses `spark` if given, else this process' SparkSession (made if there is none).
    """
    from streaming.spark import get_spark

    spark = spark or get_spark(s, "f1-init")
    for path in sorted(SQL_DIR.glob("*.sql")):
        for statement in render_sql(s, path.read_text()):
            spark.sql(statement)
    return DATABASES
