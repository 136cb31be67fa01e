"""The streams runner's in-process supervision of its queries (pure logic: stand-in query objects)."""

from __future__ import annotations

from streaming.jobs.runner import SupervisedQuery


class StandInQuery:
    def __init__(self, error: str | None = None, active: bool = True):
        self.error, self.isActive = error, active

    def exception(self):
        return self.error


def test_a_failed_query_is_restarted_until_it_fails_too_often():
    started = []

    def start():
        started.append(StandInQuery(error="NullPointerException"))
        return started[-1]

    supervised = SupervisedQuery("bronze", start)
    assert supervised.check() is None and len(started) == 2  # failure 1: restarted
    assert supervised.check() is None and len(started) == 3  # failure 2: restarted
    error = supervised.check()  # failure 3 within the window: give up, the process fails
    assert error.startswith("query bronze failed 3 times") and "NullPointerException" in error
    assert len(started) == 3


def test_a_healthy_query_is_left_alone_and_done_when_drained():
    running = SupervisedQuery("silver", lambda: StandInQuery())
    assert running.check() is None and not running.done
    drained = SupervisedQuery("silver", lambda: StandInQuery(active=False))
    assert drained.check() is None and drained.done


def test_old_failures_leave_the_window():
    queries = iter([StandInQuery(error="boom")] * 10)
    supervised = SupervisedQuery("silver", lambda: next(queries))
    for _ in range(5):
        assert supervised.check() is None
        supervised.failures = [t - SupervisedQuery.WINDOW_S for t in supervised.failures]  # long ago
