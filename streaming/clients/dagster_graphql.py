"""A small client of a running Dagster webserver's GraphQL API (plain HTTP: nothing here imports Dagster).

The end-to-end tests and `f1 bench platform` read the platform through it, as a user of the UI would.
`Snapshot.take(client)` reads in a few requests every sensor's recent ticks, the runs (status, job, tags),
every asset's materialisations and every asset check's executions; `automation_evaluations` the latest
automation evaluations of an asset. `Snapshot` answers the questions the first-hour test asks.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field

from streaming.errors import F1Error

SENSOR_NAME_TAG = "dagster/sensor_name"
AUTOMATION_TAG = "dagster/from_automation_condition"
EVALUATED = ("SUCCEEDED", "FAILED")  # an asset check execution that produced a result


class GraphQLError(F1Error):
    """The webserver answered with errors, or without what was asked."""


class DagsterGraphQL:
    def __init__(self, base_url: str, timeout_s: float = 60):
        self.url = base_url.rstrip("/") + "/graphql"
        self.timeout_s = timeout_s

    def query(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            body = json.loads(response.read())
        if body.get("errors"):
            raise GraphQLError(f"GraphQL errors: {json.dumps(body['errors'])[:2000]}")
        return body["data"]

    def locations(self) -> list[dict]:
        """Every code location: name, loadStatus (LOADING, LOADED) and its load error's message, if any."""
        entries = self.query(WORKSPACE)["workspaceOrError"].get("locationEntries") or []
        return [
            {
                "name": e["name"],
                "loadStatus": e["loadStatus"],
                "error": (e["locationOrLoadError"] or {}).get("message"),
            }
            for e in entries
        ]

    def repository_selector(self) -> dict:
        data = self.query(REPOSITORIES)["repositoriesOrError"]
        nodes = data.get("nodes") or []
        if not nodes:
            raise GraphQLError(f"no repository loaded: {json.dumps(data)[:2000]}")
        return {"repositoryLocationName": nodes[0]["location"]["name"], "repositoryName": nodes[0]["name"]}

    def sensors(self, tick_limit: int = 200) -> list[dict]:
        data = self.query(SENSORS, {"s": self.repository_selector(), "limit": tick_limit})["sensorsOrError"]
        if "results" not in data:
            raise GraphQLError(f"sensorsOrError: {json.dumps(data)[:2000]}")
        return data["results"]

    def runs(self, limit: int = 500) -> list[dict]:
        data = self.query(RUNS, {"limit": limit})["runsOrError"]
        if "results" not in data:
            raise GraphQLError(f"runsOrError: {json.dumps(data)[:2000]}")
        for run in data["results"]:
            run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
        return data["results"]

    def asset_nodes(self, limit: int = 200) -> list[dict]:
        return self.query(ASSET_NODES, {"limit": limit})["assetNodes"]

    def check_executions(self, checks: list[tuple[list[str], str]], limit: int = 100) -> dict:
        """{(asset path, check name): [executions]} for `checks`, in one request (aliases)."""
        if not checks:
            return {}
        parts, variables = [], {}
        for i, (path, name) in enumerate(checks):
            variables[f"k{i}"], variables[f"n{i}"] = {"path": path}, name
            parts.append(
                f"c{i}: assetCheckExecutions(assetKey: $k{i}, checkName: $n{i}, limit: {limit}) "
                "{ runId status timestamp evaluation { timestamp } }"
            )
        declared = ", ".join(f"$k{i}: AssetKeyInput!, $n{i}: String!" for i in range(len(checks)))
        data = self.query(f"query({declared}) {{ {' '.join(parts)} }}", variables)
        return {(tuple(path), name): data[f"c{i}"] for i, (path, name) in enumerate(checks)}

    def automation_evaluations(self, path: list[str], limit: int = 3) -> list[dict]:
        data = self.query(EVALUATIONS, {"k": {"path": path}, "limit": limit})
        records = data["assetConditionEvaluationRecordsOrError"] or {}
        return records.get("records") or []


WORKSPACE = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""

REPOSITORIES = """{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } }
  ... on PythonError { message } } }"""

SENSORS = """query($s: RepositorySelector!, $limit: Int) { sensorsOrError(repositorySelector: $s) {
  ... on Sensors { results { name sensorType sensorState { status
    ticks(limit: $limit) { status timestamp skipReason runIds requestedAssetMaterializationCount
      error { message } } } } }
  ... on PythonError { message } } }"""

RUNS = """query($limit: Int) { runsOrError(limit: $limit) { ... on Runs { results {
  runId jobName status creationTime startTime endTime tags { key value } } }
  ... on PythonError { message } } }"""

ASSET_NODES = """query($limit: Int) { assetNodes { assetKey { path } groupName
  assetMaterializations(limit: $limit) { runId timestamp }
  assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"""

EVALUATIONS = """query($k: AssetKeyInput!, $limit: Int!) {
  assetConditionEvaluationRecordsOrError(assetKey: $k, limit: $limit) {
    ... on AssetConditionEvaluationRecords { records { evaluationId timestamp numRequested
      evaluationNodes { uniqueId userLabel expandedLabel numTrue childUniqueIds } } }
    ... on AutoMaterializeAssetEvaluationNeedsMigrationError { message } } }"""


@dataclass
class Snapshot:
    """What Dagster showed at one moment."""

    sensors: list[dict]
    runs: list[dict]
    assets: list[dict]
    check_executions: dict = field(default_factory=dict)

    @classmethod
    def take(cls, client: DagsterGraphQL) -> Snapshot:
        assets = client.asset_nodes()
        checks = [
            (a["assetKey"]["path"], c["name"])
            for a in assets
            for c in (a.get("assetChecksOrError") or {}).get("checks", [])
        ]
        return cls(client.sensors(), client.runs(), assets, client.check_executions(checks))

    # -- sensors -------------------------------------------------------------------------------------------

    def sensor(self, name: str) -> dict | None:
        return next((s for s in self.sensors if s["name"] == name), None)

    def failed_ticks(self, since: float = 0) -> dict[str, list[dict]]:
        """{sensor: its FAILURE ticks since `since` (Unix seconds)}, newest first."""
        failed = {}
        for sensor in self.sensors:
            ticks = [
                t
                for t in sensor["sensorState"]["ticks"]
                if t["status"] == "FAILURE" and t["timestamp"] >= since
            ]
            if ticks:
                failed[sensor["name"]] = ticks
        return failed

    def tick_counts(self) -> dict[str, dict[str, int]]:
        counts = {}
        for sensor in self.sensors:
            by_status: dict[str, int] = {}
            for tick in sensor["sensorState"]["ticks"]:
                by_status[tick["status"]] = by_status.get(tick["status"], 0) + 1
            counts[sensor["name"]] = by_status
        return counts

    # -- runs ----------------------------------------------------------------------------------------------

    def run(self, run_id: str) -> dict | None:
        return next((r for r in self.runs if r["runId"] == run_id), None)

    def runs_of(self, job_name: str, status: str | None = None) -> list[dict]:
        return [r for r in self.runs if r["jobName"] == job_name and status in (None, r["status"])]

    def failed_runs(self) -> list[dict]:
        return [r for r in self.runs if r["status"] == "FAILURE"]

    def launched_by(self, sensor_name: str) -> list[dict]:
        return [r for r in self.runs if r["tags"].get(SENSOR_NAME_TAG) == sensor_name]

    # -- assets and checks ---------------------------------------------------------------------------------

    def asset(self, path: list[str]) -> dict | None:
        return next((a for a in self.assets if a["assetKey"]["path"] == list(path)), None)

    def materializations(self, path: list[str]) -> list[dict]:
        asset = self.asset(path)
        return asset["assetMaterializations"] if asset else []

    def materializing_runs(self, path: list[str], sensor_name: str) -> list[dict]:
        """The runs launched by `sensor_name` that materialised `path`, oldest first, with the
        materialisation's time (Unix seconds) as `materialized_at`."""
        runs = {}
        for m in self.materializations(path):
            run = self.run(m["runId"])
            if run and run["tags"].get(SENSOR_NAME_TAG) == sensor_name:
                at = float(m["timestamp"]) / 1000
                if m["runId"] not in runs or at < runs[m["runId"]]["materialized_at"]:
                    runs[m["runId"]] = {**run, "materialized_at": at}
        return sorted(runs.values(), key=lambda r: r["materialized_at"])

    def evaluated_checks(self, layer: str) -> dict[tuple, list[dict]]:
        """{(asset path, check): executions with a result} of the assets whose key starts with `layer`."""
        return {
            key: evaluated
            for key, executions in self.check_executions.items()
            if key[0][0] == layer and (evaluated := [e for e in executions if e["status"] in EVALUATED])
        }

    def checks_of(self, layer: str) -> list[tuple]:
        return [key for key in self.check_executions if key[0][0] == layer]
