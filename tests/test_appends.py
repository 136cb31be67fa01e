"""Idempotent micro-batch appends (streaming/jobs/appends.py) on real Spark and Delta tables."""

from __future__ import annotations

import uuid

import pytest

from streaming.jobs.appends import BatchAppends, batch_tag, tagged_batch


def test_a_commit_tag_names_its_app_and_batch():
    tag = batch_tag("silver:0b5e-checkpoint", 42)
    assert tagged_batch(tag, "silver:0b5e-checkpoint") == 42
    assert tagged_batch(tag, "silver:other-checkpoint") is None
    assert tagged_batch(tag, "silver:0b5e") is None  # a prefix of the app id is another app
    assert tagged_batch(None, "silver:0b5e-checkpoint") is None
    assert tagged_batch("f1-batch silver:0b5e-checkpoint x", "silver:0b5e-checkpoint") is None


@pytest.fixture
def table(spark):
    name = f"default.appends_{uuid.uuid4().hex[:8]}"
    spark.sql(f"CREATE TABLE {name} (id BIGINT, batch BIGINT) USING delta")
    yield name
    spark.sql(f"DROP TABLE IF EXISTS {name}")


def _rows(spark, batch_id: int, n: int = 3):
    return spark.range(n).selectExpr("id", f"CAST({batch_id} AS BIGINT) AS batch")


def _count(spark, table: str) -> int:
    return spark.table(table).count()


def _txn_in_commit(spark, table: str, version: int) -> bool:
    from pathlib import Path

    location = spark.sql(f"DESCRIBE DETAIL {table}").first().location.removeprefix("file:")
    commit = Path(location) / "_delta_log" / f"{version:020d}.json"
    return '"txn"' in commit.read_text()


def test_a_replayed_first_batch_lands_once_and_later_batches_skip_the_lookup(spark, table):
    run = BatchAppends(spark, "query:checkpoint-a")
    assert run.append(_rows(spark, 7), table, 7)  # the run's first batch: looked up, Delta txn too
    assert run.append(_rows(spark, 8), table, 8)  # later batches of the run: tag only
    versions = {r.userMetadata: r.version for r in spark.sql(f"DESCRIBE HISTORY {table}").collect()}
    assert _txn_in_commit(spark, table, versions[batch_tag("query:checkpoint-a", 7)])
    assert not _txn_in_commit(spark, table, versions[batch_tag("query:checkpoint-a", 8)])
    assert _count(spark, table) == 6

    # The process died during batch 8 after this table had it: the next run replays 8, then runs 9.
    restarted = BatchAppends(spark, "query:checkpoint-a")
    assert not restarted.append(_rows(spark, 8), table, 8)
    assert restarted.append(_rows(spark, 9), table, 9)
    assert _count(spark, table) == 9
    # Another checkpoint (a query started over) is another app: its batch 8 is new.
    assert BatchAppends(spark, "query:checkpoint-b").append(_rows(spark, 8), table, 8)
    assert _count(spark, table) == 12


def test_a_replay_of_a_batch_an_untagged_release_wrote_is_caught_by_deltas_txn(spark, table):
    # An earlier release wrote with Delta's txnAppId/txnVersion alone, no tag.
    (
        _rows(spark, 3)
        .write.format("delta")
        .mode("append")
        .option("txnAppId", "query:checkpoint-c")
        .option("txnVersion", 3)
        .saveAsTable(table)
    )
    BatchAppends(spark, "query:checkpoint-c").append(_rows(spark, 3), table, 3)
    assert _count(spark, table) == 3


def test_the_lookup_reads_past_the_recent_commits(spark, table, monkeypatch):
    from streaming.jobs import appends

    monkeypatch.setattr(appends, "RECENT_COMMITS", 2)
    BatchAppends(spark, "query:checkpoint-d").append(_rows(spark, 0), table, 0)
    for other in range(3):  # three commits of other writers since
        BatchAppends(spark, f"other:{other}").append(_rows(spark, 0), table, 0)
    assert BatchAppends(spark, "query:checkpoint-d").landed(table, 0)
    assert not BatchAppends(spark, "query:checkpoint-d").landed(table, 1)
