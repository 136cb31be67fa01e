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


_CREATED_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS\s+([\w.]+)", re.I)
_TABLE_PROPERTIES = re.compile(r"\bTBLPROPERTIES\s*\((.*)\)\s*$", re.S | re.I)
_PROPERTY = re.compile(r"'([^']+)'\s*=\s*'([^']*)'")


def declared_properties(statement: str) -> tuple[str, dict[str, str]] | None:
    """(table, its TBLPROPERTIES) of a CREATE TABLE statement; None for any other statement."""
    table, properties = _CREATED_TABLE.match(statement), _TABLE_PROPERTIES.search(statement)
    if table is None or properties is None:
        return None
    return table.group(1), dict(_PROPERTY.findall(properties.group(1)))


def apply_declared_properties(spark, table: str, declared: dict[str, str]) -> dict[str, str]:
    """Set the declared properties that `table` (made by an earlier release) lacks; returns those set.

    Only when one differs: a property change is a metadata commit, which fails a stream's concurrent
    append to the table (it is retried once the query restarts).
    """
    current = {row.key: row.value for row in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    changed = {key: value for key, value in declared.items() if current.get(key) != value}
    if changed:
        pairs = ", ".join(f"'{key}' = '{value}'" for key, value in changed.items())
        spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ({pairs})")
    return changed


def create_databases(s: Settings, spark=None) -> tuple[str, ...]:
    """Apply every sql/*.sql file in order: databases first, then tables. Idempotent.

    A table that exists already gets the properties its DDL declares now (a new release may tune them).
    Uses `spark` if given, else this process' SparkSession (made if there is none).
    """
    from streaming.spark import get_spark

    spark = spark or get_spark(s, "f1-init")
    for path in sorted(SQL_DIR.glob("*.sql")):
        for statement in render_sql(s, path.read_text()):
            spark.sql(statement)
            declared = declared_properties(statement)
            if declared is not None:
                apply_declared_properties(spark, *declared)
    return DATABASES
