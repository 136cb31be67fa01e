"""The table catalog: the Hive metastore's database on Derby's network server."""

from __future__ import annotations

from streaming.clients.jars import jar_set
from streaming.clients.probes import metastore_jdbc_url, metastore_probe
from streaming.runtime.service import Service, java_command, jmx_agent_option
from streaming.settings import Settings


class Metastore(Service):
    """Derby's network server: the Hive metastore database that every Spark process shares."""

    name, title, variable = "metastore", "Table catalog (Hive metastore on Derby)", "METASTORE_PORT"

    def endpoint(self, s: Settings) -> str:
        return metastore_jdbc_url(s)

    def prepare(self, s: Settings) -> None:
        self.data_dir(s).mkdir(parents=True, exist_ok=True)

    def command(self, s: Settings) -> list[str]:
        return [
            java_command(s),
            *s.metastore_heap_opts.split(),
            "-XX:+UseSerialGC",
            jmx_agent_option(s, s.metastore_metrics_port, "jvm-only.yml"),
            f"-Dderby.system.home={self.data_dir(s)}",
            "-Dderby.stream.error.file=" + str(self.data_dir(s) / "derby.log"),
            "-cp",
            jar_set(s.f1_jvm_lib_dir, "metastore").classpath(),
            "org.apache.derby.drda.NetworkServerControl",
            "start",
            "-h",
            "127.0.0.1",
            "-p",
            str(s.metastore_port),
            "-noSecurityManager",
        ]

    def probe(self, s: Settings) -> str | None:
        return metastore_probe(s)
