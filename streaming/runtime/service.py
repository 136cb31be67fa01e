"""What every local service is: how it is prepared, started and probed, and the JVM options they share."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from streaming.clients.jars import jar_set
from streaming.clients.spark import loopback_env
from streaming.errors import InstallError
from streaming.settings import PROJECT_ROOT, Settings

CONF_DIR = Path(__file__).parent / "conf"


class Service:
    """One local service. Subclasses say how to prepare, run and probe it."""

    name: str
    title: str
    variable: str  # the setting that says where clients find it

    def endpoint(self, s: Settings) -> str:
        raise NotImplementedError

    def prepare(self, s: Settings) -> None:
        """Write configuration and initialise storage on first start (idempotent)."""

    def command(self, s: Settings) -> list[str]:
        raise NotImplementedError

    def env(self, s: Settings) -> dict[str, str]:
        # the Spark drivers a service starts stay on loopback
        return {**loopback_env(s), **os.environ, **s.as_env()}

    def probe(self, s: Settings) -> str | None:
        """None when the service answers like a healthy one, else a short reason."""
        raise NotImplementedError

    def data_dir(self, s: Settings) -> Path:
        return s.data_dir / self.name


def java_command(s: Settings) -> str:
    java = s.java
    if shutil.which(java) is None:
        raise InstallError(f"Java not found ({java}). Install a JDK 17+ or set JAVA_HOME.")
    return java


JMX_CONF_DIR = PROJECT_ROOT / "monitoring" / "jmx"


def jmx_agent_option(s: Settings, port: int, config: str) -> str:
    """The JVM option that loads the Prometheus JMX exporter on 127.0.0.1:`port` (monitoring/jmx/`config`).

    An agent in the service's own JVM rather than a separate exporter process: one process less per
    service, and the JVM's own metrics (heap, GC, CPU, threads) come with it.
    """
    agent = jar_set(s.f1_jvm_lib_dir, "monitoring").find("jmx_prometheus_javaagent")
    return f"-javaagent:{agent}=127.0.0.1:{port}:{JMX_CONF_DIR / config}"


@contextlib.contextmanager
def argument_file(args: list[str]) -> Iterator[Path]:
    """A `java @file` argument file holding `args`, readable by the owner only, deleted afterwards."""
    quoted = ('"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"' for a in args)
    fd, name = tempfile.mkstemp(prefix="f1-java-args-", suffix=".txt")
    try:
        with os.fdopen(fd, "w") as file:
            file.write("\n".join(quoted) + "\n")
        yield Path(name)
    finally:
        os.unlink(name)
