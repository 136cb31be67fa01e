"""Spark jobs of the platform: pure PySpark, no Dagster."""

from __future__ import annotations


def start_with_trigger(writer, default_seconds: float, *, available_now: bool, trigger_seconds: float | None):
    """Start a stream writer: available-now (drain what is there, then stop) or every N seconds."""
    if available_now:
        return writer.trigger(availableNow=True).start()
    seconds = default_seconds if trigger_seconds is None else trigger_seconds
    return writer.trigger(processingTime=f"{seconds} seconds").start()
