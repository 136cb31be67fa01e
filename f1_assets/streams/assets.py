"""The Delta tables the streams write, as assets: Kafka topics → bronze → silver tables and quarantine.

They are materialised by the long-running stream runs (f1_assets/streams/jobs.py), which report a
materialisation of each table as they go; the freshness policies judge those.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from f1_assets.keys import table_asset_key, topic_asset_key
from streaming.contracts import topics
from streaming.contracts.event_types import EVENT_TYPES
from streaming.jobs import bronze, lake, sessions, silver
from streaming.jobs.progress import reported_by

# While a session is live the streams report every STREAM_REPORT_SECONDS (30 s by default).
STREAM_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(minutes=2), warn_window=timedelta(minutes=1)
)


BRONZE = table_asset_key(bronze.TABLE)
SESSIONS = table_asset_key(sessions.TABLE)
QUARANTINE = table_asset_key(silver.QUARANTINE_TABLE)
SILVER = table_asset_key(silver.SILVER_TABLE)
SILVER_EVENTS = {event_type: table_asset_key(silver.table_name(event_type)) for event_type in EVENT_TYPES}

_DESCRIPTIONS = {
    BRONZE: "Every raw record from Kafka as it arrived, decoded where possible; append-only.",
    SESSIONS: "Session metadata (circuit, type, entry list), latest per session, from the f1.sessions topic.",
    QUARANTINE: "Records that failed validation, each with its reason code and a readable detail.",
    SILVER: "Validated, deduplicated events of every type with their session context, each type's payload "
    "in its own struct column; one commit per micro-batch. Clustered by session date and car.",
}


def _spec(key: dg.AssetKey, query: str, deps: list[dg.AssetKey], description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        description=description,
        deps=deps,
        kinds={"spark", "delta"},
        group_name=key.path[0],
        owners=["team:data-platform"],
        tags={"f1/stream": query},
        metadata={"table": ".".join(key.path), "stream": query},
        freshness_policy=STREAM_FRESHNESS,
    )


def stream_table_specs() -> list[dg.AssetSpec]:
    raw_topics = [topic_asset_key(topics.RAW_PROTOBUF), topic_asset_key(topics.RAW_JSON)]
    # One query writes them all, from the same micro-batch; the lineage still says what feeds what.
    stream = lake.QUERY_NAME
    specs = [_spec(BRONZE, stream, raw_topics, _DESCRIPTIONS[BRONZE])]
    specs.append(_spec(SESSIONS, stream, [topic_asset_key(topics.SESSIONS)], _DESCRIPTIONS[SESSIONS]))
    specs.append(_spec(QUARANTINE, stream, [BRONZE, SESSIONS], _DESCRIPTIONS[QUARANTINE]))
    specs.append(_spec(SILVER, stream, [BRONZE, SESSIONS], _DESCRIPTIONS[SILVER]))
    for event_type, key in SILVER_EVENTS.items():
        description = (
            f"A view of the silver table's {event_type} events, the payload flattened to columns, with their "
            "session context."
        )
        specs.append(_spec(key, stream, [SILVER], description))
    assert {".".join(s.key.path) for s in specs} == set(reported_by(stream)), (
        "the table assets and the tables the streams write disagree"
    )
    return specs
