"""Resources of the code location, chosen per environment (F1_ENV: local, ci or production).

Every value comes from the platform's one settings object (streaming/settings/), which the code
location reads from its environment (`make up` passes the settings to `dagster dev`). The environments
differ in what they insist on: production refuses a local Spark master and alerts that go nowhere.
"""

from __future__ import annotations

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from streaming.clients.spark import spark_conf
from streaming.errors import ConfigError
from streaming.settings import Settings


class PlatformSettings(dg.ConfigurableResource):
    """The platform's settings: from the process environment (and `.env`), or from `environ` in tests."""

    environ: dict[str, str] | None = None

    def get(self) -> Settings:
        return Settings.from_env(self.environ)


def spark_resource(settings: Settings, app_name: str) -> LazyPySparkResource:
    """dagster-pyspark's resource with the platform's Spark conf (jars by path, Delta, shared catalog).

    Lazy: the JVM starts only in the ops that use Spark, not in sensors or when definitions load.
    """
    return LazyPySparkResource(spark_config=spark_conf(settings, app_name))


def _check_production(settings: Settings) -> None:
    problems = []
    if settings.spark_master.startswith("local"):
        problems.append(
            "SPARK_MASTER must name a cluster (spark://host:port, yarn, k8s://...) in production."
        )
    if not settings.alert_webhook_url:
        problems.append("ALERT_WEBHOOK_URL must be set in production: alerts would only reach the log.")
    if problems:
        raise ConfigError(problems)


def resources_for(settings: Settings, environ: dict[str, str] | None = None) -> dict:
    """The resources of `settings.f1_env`; `environ` pins the settings runs and sensors read (tests)."""
    if settings.f1_env == "production":
        _check_production(settings)
    return {
        "platform": PlatformSettings(environ=environ),
        "spark": spark_resource(settings, f"f1-dagster-{settings.f1_env}"),
    }
