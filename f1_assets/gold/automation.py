"""When gold rebuilds: on a cron tick, once its silver parents have new data, and never on bad silver.

Silver materialises every half minute while a session is live; rebuilding gold that often would keep a
Spark driver busy for nothing, so gold follows GOLD_CRON (within its 15-minute freshness window). And
it waits for its parents' blocking checks (the Great Expectations suites marked blocking) to pass on
their latest data: bad silver never reaches gold.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from streaming.settings import Settings

# GOLD_BUILD_CRON, read when the code location loads (the translator has no resources to ask)
GOLD_CRON = Settings.from_env().gold_build_cron
GOLD_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(minutes=15), warn_window=timedelta(minutes=12)
)


def gold_automation(cron: str = GOLD_CRON) -> dg.AutomationCondition:
    """Rebuild after a cron tick once any parent changed since it, if every parent's blocking checks pass.

    Any parent, not all (as `on_cron` wants): silver.sessions changes once per session and
    silver.system only as things happen, but a lap still needs rebuilding when positions arrive.
    """
    tick = dg.AutomationCondition.cron_tick_passed(cron)
    changed = dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.newly_updated() | dg.AutomationCondition.will_be_requested()
    ).since(tick)
    return (
        tick.since_last_handled()
        & changed
        & dg.AutomationCondition.all_deps_blocking_checks_passed()
        & ~dg.AutomationCondition.in_progress()
        & ~dg.AutomationCondition.any_deps_in_progress()
    ).with_label(f"on {cron} once silver changed, if its blocking checks pass")
