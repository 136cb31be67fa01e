"""The session explorer notebook (notebooks/session_explorer.ipynb), executed for real on a small race.

It runs on the gold tests' race (the session fixture `gold`, tests/gold_race.py: three cars, four laps,
a pit stop each, through Kafka, bronze, silver and dbt in the tests' SparkSession). nbclient runs the
notebook in a kernel of the project's venv: `python3`'s kernelspec runs `python`, which jupyter_client
replaces by this interpreter, and the kernel gets the test platform's settings through its environment,
so its own Spark driver reads the same tables through the shared metastore. Every chart cell must draw a
figure, of the expected drivers.
"""

from __future__ import annotations

import base64
import os
import sys
import time

import nbformat
import pytest
from nbclient import NotebookClient

from streaming.settings import PROJECT_ROOT

NOTEBOOK = PROJECT_ROOT / "notebooks" / "session_explorer.ipynb"
CHART_CELLS = ("lap-chart", "speed-trace", "tyre-temperatures")  # cell ids


def test_the_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert set(CHART_CELLS) <= {cell.id for cell in code}
    assert nb.metadata.kernelspec.name == "python3"


def outputs(cell) -> tuple[str, list[bytes]]:
    """A cell's printed text and its PNG images."""
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    images = [
        base64.b64decode(o.data["image/png"])
        for o in cell.outputs
        if o.output_type in ("display_data", "execute_result") and "image/png" in o.get("data", {})
    ]
    return text, images


@pytest.mark.e2e
def test_the_session_explorer_runs_on_a_race(gold, tmp_path):
    settings, config, truth = gold["settings"], gold["config"], gold["truth"]
    codes = {e["car_number"]: e["driver_code"] for e in truth["session"]["entries"]}
    best = {}  # each driver's fastest lap, from the simulator's truth
    for lap in truth["laps"]:
        best[codes[lap["car_number"]]] = min(best.get(codes[lap["car_number"]], 1e12), lap["lap_time_ms"])
    two_fastest = sorted(best, key=best.get)[:2]

    nb = nbformat.read(NOTEBOOK, as_version=4)
    env = {**os.environ, **settings.as_env(), "F1_NOTEBOOK_SESSION_ID": config.session_id}
    env.pop("F1_NOTEBOOK_DRIVERS", None)  # the default: the two fastest
    client = NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    assert client.create_kernel_manager().format_kernel_cmd()[0] == sys.executable  # the project's venv
    started = time.monotonic()
    try:
        client.execute(env=env)  # raises CellExecutionError on the first failing cell
    finally:
        nbformat.write(nb, tmp_path / NOTEBOOK.name)  # the executed notebook, to look at
    print(f"notebook ran in {time.monotonic() - started:.0f} s; executed copy in {tmp_path}")

    cells = {cell.id: cell for cell in nb.cells}
    for cell_id in CHART_CELLS:
        _, images = outputs(cells[cell_id])
        assert len(images) == 1 and images[0].startswith(b"\x89PNG"), cell_id
        (tmp_path / f"{cell_id}.png").write_bytes(images[0])
    assert config.session_id in outputs(cells["overview"])[0]
    assert outputs(cells["lap-chart"])[0].strip() == "Lap chart drivers: " + ", ".join(sorted(codes.values()))
    assert outputs(cells["speed-trace"])[0].strip() == "Speed trace drivers: " + ", ".join(two_fastest)
    assert outputs(cells["tyre-temperatures"])[0].startswith(f"Tyre temperatures: {two_fastest[0]},")
