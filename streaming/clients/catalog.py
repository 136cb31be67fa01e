"""The table catalog's databases (bronze, silver, gold), created from the DDL in sql/."""

from __future__ import annotations

import re

from streaming.clients.spark import get_spark
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


STATS_COLUMNS = "delta.dataSkippingStatsColumns"


def fitted_to_partitions(declared: dict[str, str], partition_columns: list[str]) -> dict[str, str]:
    """The declared properties a table partitioned by `partition_columns` can take.

    An earlier release partitioned tables that are clustered now; Delta cannot turn partitions into
    clustering in place, and refuses stats on a partition column (which needs none: its values are in the
    paths). So a partitioned table keeps its layout and gets the stats columns but its partition columns.
    """
    if not partition_columns or STATS_COLUMNS not in declared:
        return declared
    partitioned = {c.lower() for c in partition_columns}
    kept = [c for c in declared[STATS_COLUMNS].split(",") if c.strip().lower() not in partitioned]
    return {**declared, STATS_COLUMNS: ",".join(kept)}


def apply_declared_properties(spark, table: str, declared: dict[str, str]) -> dict[str, str]:
    """Set the declared properties that `table` (made by an earlier release) lacks; returns those set.

    Only when one differs: a property change is a metadata commit, which fails a stream's concurrent
    append to the table (it is retried once the query restarts).
    """
    partition_columns = list(spark.sql(f"DESCRIBE DETAIL {table}").first().partitionColumns or [])
    declared = fitted_to_partitions(declared, partition_columns)
    current = {row.key: row.value for row in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    changed = {key: value for key, value in declared.items() if current.get(key) != value}
    if changed:
        pairs = ", ".join(f"'{key}' = '{value}'" for key, value in changed.items())
        spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ({pairs})")
    return changed


_COLUMN_LINE = re.compile(
    r"^\s+(\w+)\s+([A-Z][A-Z0-9_(), ]*?|STRUCT<[^>]*>)(\s+NOT NULL)?(?:\s+COMMENT\s+'((?:[^']|'')*)')?,?$"
)


def declared_columns(statement: str) -> list[tuple[str, str, bool, str]]:
    """(name, type, nullable, comment) of the columns a CREATE TABLE statement declares, in order."""
    if _CREATED_TABLE.match(statement) is None or "(" not in statement:
        return []
    body = statement[statement.index("(") + 1 : statement.index("\n)")]
    columns = []
    for line in body.splitlines():
        match = _COLUMN_LINE.match(line)
        if match:
            name, type_, not_null, comment = match.groups()
            columns.append((name, type_.strip(), not_null is None, (comment or "").replace("''", "'")))
    return columns


def struct_fields(type_: str) -> list[tuple[str, str]]:
    """(name, type) of the fields of a generated `STRUCT<a: INT, b: DECIMAL(20,0)>` type."""
    return [
        tuple(part.split(": ", 1)) for part in type_.removeprefix("STRUCT<").removesuffix(">").split(", ")
    ]


def add_declared_columns(spark, table: str, declared: list[tuple[str, str, bool, str]]) -> list[str]:
    """Add the nullable columns the DDL declares that `table` (made by an earlier release) lacks.

    Returns their names. A NOT NULL column cannot be added to rows that exist: a release adds nullable ones.
    """
    fields = {field.name.lower(): field for field in spark.table(table).schema.fields}
    missing = [c for c in declared if c[0].lower() not in fields and c[2]]
    for name, type_, _, _ in declared:  # a payload field new in a struct column (a contract's new field)
        if type_.startswith("STRUCT<") and name.lower() in fields:
            there = {f.name.lower() for f in fields[name.lower()].dataType.fields}
            for field_name, field_type in struct_fields(type_):
                if field_name.lower() not in there:
                    missing.append((f"{name}.{field_name}", field_type, True, ""))
    if missing:
        columns = ", ".join(
            f"{name} {type_}" + (" COMMENT '" + comment.replace("'", "\\'") + "'" if comment else "")
            for name, type_, _, comment in missing
        )
        spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({columns})")
    return [name for name, *_ in missing]


_CREATED_VIEW = re.compile(r"^CREATE OR REPLACE VIEW\s+([\w.]+)", re.I)
MIGRATED = "migrated from the per-type table {table}"


def migrate_to_view(spark, name: str) -> int | None:
    """Move the rows of an earlier release's per-type silver table `name` into the silver table, so that
    its view can take the name; returns the rows moved (None: `name` is not such a table).

    Earlier releases kept one table per event type. Its rows are inserted into the silver table in one
    tagged commit (a retry after a crash finds the tag and does not insert twice), then the table is
    dropped from the catalog; its files stay where they were (the tables are external).
    """
    from streaming.contracts.tables import SILVER_TABLE, from_view_select

    if not spark.catalog.tableExists(name) or spark.catalog.getTable(name).tableType == "VIEW":
        return None
    event_type = name.split(".")[1]
    tag = MIGRATED.format(table=name)
    done = spark.sql(f"DESCRIBE HISTORY {SILVER_TABLE}").where(f"userMetadata = '{tag}'").count()
    moved = spark.table(name).count()
    if not done:
        spark.conf.set("spark.databricks.delta.commitInfo.userMetadata", tag)
        try:
            select = ", ".join(from_view_select(event_type))
            spark.sql(f"INSERT INTO {SILVER_TABLE} SELECT {select} FROM {name}")
        finally:
            spark.conf.unset("spark.databricks.delta.commitInfo.userMetadata")
    spark.sql(f"DROP TABLE {name}")
    return moved


def create_databases(s: Settings, spark=None) -> tuple[str, ...]:
    """Apply every sql/*.sql file in order: databases first, then tables. Idempotent.

    A table that exists already gets the properties and the nullable columns its DDL declares now (a new
    release may tune them, or add a column); a per-type silver table of an earlier release moves into the
    silver table before its view takes its name (`migrate_to_view`).
    Uses `spark` if given, else this process' SparkSession (made if there is none).
    """
    spark = spark or get_spark(s, "f1-init")
    for path in sorted(SQL_DIR.glob("*.sql")):
        for statement in render_sql(s, path.read_text()):
            view = _CREATED_VIEW.match(statement)
            if view is not None:
                migrate_to_view(spark, view.group(1))
            spark.sql(statement)
            declared = declared_properties(statement)
            if declared is not None:
                apply_declared_properties(spark, *declared)
                add_declared_columns(spark, declared[0], declared_columns(statement))
    return DATABASES
