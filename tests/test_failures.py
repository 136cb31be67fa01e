"""A micro-batch that keeps failing (streaming/jobs/failures.py) and a query that keeps failing
(streaming/jobs/runner.py's FailureRecord): pure logic, no Spark."""

from __future__ import annotations

import re

import pytest

from streaming.jobs import failures
from streaming.jobs.runner import FailureRecord


class Boom(RuntimeError):
    pass


def test_a_batch_that_recovers_is_not_set_aside():
    calls, set_aside, retried, slept = [], [], [], []

    def attempt():
        calls.append(1)
        if len(calls) < 3:
            raise Boom("[ARITHMETIC_OVERFLOW] long overflow")

    detail = failures.run_batch(
        attempt, set_aside.append, 3, name="t", before_retry=lambda: retried.append(1), sleep=slept.append
    )
    assert detail is None and set_aside == [] and len(calls) == 3
    assert retried == [1, 1] and slept == [1.0, 2.0]  # backs off between tries


def test_a_batch_that_keeps_failing_is_set_aside_with_the_error():
    set_aside, told, retried = [], [], []

    def attempt():
        raise Boom(
            "[ARITHMETIC_OVERFLOW] long overflow\n\tat org.apache.spark.Foo(Foo.scala:1)\nJVM stacktrace:"
        )

    detail = failures.run_batch(
        attempt,
        set_aside.append,
        2,
        name="t",
        before_retry=lambda: retried.append(1),
        on_failed=told.append,
        sleep=lambda _: None,
    )
    assert detail == "Boom: [ARITHMETIC_OVERFLOW] long overflow"
    assert set_aside == [detail] and told == [detail]
    assert retried == [1, 1]  # before the second try, and before setting aside: appends are looked up


@pytest.mark.parametrize(
    "message",
    ["java.lang.InterruptedException", "Job 3 cancelled part of cancelled job group", "stopped SparkContext"],
)
def test_a_query_being_stopped_is_never_taken_for_bad_data(message):
    set_aside = []

    def attempt():
        raise Boom(message)

    with pytest.raises(failures.QueryStopping) as raised:
        failures.run_batch(attempt, set_aside.append, 3, name="lake batch 7", sleep=lambda _: None)
    assert set_aside == []
    # Spark takes it for a stop (StreamExecution.PROXY_ERROR), and its text is short enough for that regex
    assert re.search(
        r"Py4JJavaError: An error occurred while calling(.|\n)*java.lang.InterruptedException",
        str(raised.value),
    )
    assert message in str(raised.value) and len(str(raised.value)) < 400
    assert raised.value.__suppress_context__  # the original error's trace is not printed with it


def test_a_crash_loop_is_carried_across_processes_until_progress():
    record = FailureRecord()
    record.failed(RuntimeError("[ARITHMETIC_OVERFLOW] long overflow\nmore"))
    assert (record.restarts, record.last_error) == (1, "[ARITHMETIC_OVERFLOW] long overflow")
    status = {"state": "failed", "restarts": 3, "last_error": "x", "last_error_at": 1.0}
    carried = FailureRecord.carried_over(status)
    assert (carried.restarts, carried.last_error) == (4, "x")  # the failed process counts as a restart
    assert FailureRecord.carried_over({"state": "stopped", "restarts": 0}).restarts == 0
    assert FailureRecord.carried_over(None).restarts == 0
    carried.progressed()
    assert carried.restarts == 0


def test_a_process_killed_without_a_word_counts_as_a_restart():
    last_seen = {"state": "running", "restarts": 0, "pid": 4242, "updated_at": 9.0}
    carried = FailureRecord.carried_over(last_seen, previous_alive=False)
    assert carried.restarts == 1 and carried.last_error_at == 9.0
    assert "process 4242 ended without a word while running" in carried.last_error
    assert "SIGKILL" in carried.last_error
    # killed again while the relaunched process was still starting: the loop keeps counting
    again = FailureRecord.carried_over({**last_seen, "state": "failing", "restarts": 1}, previous_alive=False)
    assert again.restarts == 2
    # a process still alive (a stale read), or one that stopped as asked, is no failure
    assert FailureRecord.carried_over(last_seen, previous_alive=True).restarts == 0
    assert FailureRecord.carried_over({**last_seen, "state": "stopped"}).restarts == 0
