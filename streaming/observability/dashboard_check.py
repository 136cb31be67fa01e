"""The dashboards against a live Prometheus: does every panel return data, and what does it show?

`check` runs each panel's queries through Prometheus' HTTP API and lists those that return no series
and the metrics no exporter provides (`f1 dashboards check`; the end-to-end test asserts there are
none). `render` draws every panel's last minutes into one PNG per dashboard with matplotlib
(`f1 dashboards render`): what the Grafana panels would show, where no Grafana runs.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from streaming.observability.dashboards import DASHBOARDS, Dashboard, Panel, Query, all_queries, metric_names


@dataclass(frozen=True)
class QueryResult:
    dashboard: str
    panel: str
    expr: str
    series: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.series > 0


def prometheus_api(prometheus_url: str, path: str, **params) -> dict:
    url = f"{prometheus_url.rstrip('/')}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.loads(response.read())
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body.get('error', body)}")
    return body["data"]


def run_query(prometheus_url: str, dashboard: Dashboard, panel: Panel, query: Query) -> QueryResult:
    try:
        data = prometheus_api(prometheus_url, "query", query=query.expr)
    except (OSError, RuntimeError, ValueError) as error:
        return QueryResult(dashboard.title, panel.title, query.expr, 0, str(error))
    return QueryResult(dashboard.title, panel.title, query.expr, len(data["result"]))


def check(prometheus_url: str) -> tuple[list[QueryResult], set[str]]:
    """(every panel query's result, the metrics panels read that Prometheus has never seen)."""
    results = [run_query(prometheus_url, d, p, q) for d, p, q in all_queries()]
    known = set(prometheus_api(prometheus_url, "label/__name__/values"))
    wanted = {name for _, _, q in all_queries() for name in metric_names(q.expr)}
    return results, wanted - known


def render(prometheus_url: str, out_dir: Path, minutes: int = 30, step_s: int = 15) -> list[Path]:
    """One PNG per dashboard: each panel's queries over the last `minutes`, as Grafana would draw them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    end = time.time()
    paths = []
    for dashboard in DASHBOARDS:
        columns = 2
        rows = -(-len(dashboard.panels) // columns)
        figure, axes = plt.subplots(rows, columns, figsize=(16, 3.2 * rows), squeeze=False)
        for ax, panel in zip(axes.flat, dashboard.panels, strict=False):
            _draw_panel(ax, prometheus_url, panel, end - minutes * 60, end, step_s)
        for ax in axes.flat[len(dashboard.panels) :]:
            ax.axis("off")
        figure.suptitle(f"{dashboard.title} (last {minutes} min, from Prometheus)", fontsize=14)
        figure.tight_layout()
        path = out_dir / f"{dashboard.uid}.png"
        figure.savefig(path, dpi=80)
        plt.close(figure)
        paths.append(path)
    return paths


def _draw_panel(ax, prometheus_url: str, panel: Panel, start: float, end: float, step_s: int) -> None:
    ax.set_title(f"{panel.title} [{panel.unit}]", fontsize=10, loc="left")
    drawn = 0
    for query in panel.queries:
        try:
            data = prometheus_api(
                prometheus_url, "query_range", query=query.expr, start=start, end=end, step=step_s
            )
        except (OSError, RuntimeError, ValueError) as error:
            ax.text(0.5, 0.5, f"error: {error}", ha="center", transform=ax.transAxes, fontsize=8)
            continue
        for series in data["result"][:12]:  # a legend of more lines is unreadable anyway
            times = [(float(t) - end) / 60 for t, _ in series["values"]]
            values = [float(v) for _, v in series["values"]]
            marker = "o" if len(values) < 3 else None  # a line of one point would not show
            label = _legend(query.legend, series["metric"])
            ax.plot(times, values, label=label, linewidth=1.2, marker=marker)
            drawn += 1
    if drawn:
        ax.legend(fontsize=7, loc="upper left", ncol=2)
        ax.set_xlabel("minutes before now", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)


def _legend(template: str, labels: dict) -> str:
    text = template or ",".join(f"{k}={v}" for k, v in labels.items() if k != "__name__")
    for key, value in labels.items():
        text = text.replace("{{" + key + "}}", value)
    # labels a series does not carry (a sum removed them) leave an empty slot, as in Grafana
    while "{{" in text and "}}" in text:
        text = text[: text.index("{{")] + text[text.index("}}") + 2 :]
    return text.strip() or "value"
