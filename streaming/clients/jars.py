"""The JVM jars that `make install` resolves from Maven (jvm/pom.xml) and the versions they carry.

Spark, the Kafka broker and the metastore server use these jars by local path, so that nothing is
downloaded when a job or service starts.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from streaming.errors import InstallError
from streaming.settings import PROJECT_ROOT

POM = PROJECT_ROOT / "jvm" / "pom.xml"
_MAVEN_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def pom_versions(pom: Path = POM) -> dict[str, str]:
    """The `<properties>` of the parent pom, for example {'spark.version': '4.1.1', ...}."""
    properties = ET.parse(pom).getroot().find("m:properties", _MAVEN_NS)
    return {child.tag.split("}", 1)[1]: (child.text or "").strip() for child in properties}


@dataclass(frozen=True)
class JarSet:
    """The jars of one jvm/ module, as installed under F1_JVM_LIB_DIR/<module>."""

    module: str
    folder: Path

    def paths(self) -> list[Path]:
        jars = sorted(self.folder.glob("*.jar"))
        if not jars:
            raise InstallError(
                f"No {self.module} jars in {self.folder}. Run `make install` to resolve them from Maven."
            )
        return jars

    def classpath(self) -> str:
        return ":".join(str(p) for p in self.paths())

    def find(self, artifact_prefix: str) -> Path:
        """The jar whose file name is `<artifact_prefix>-<version>.jar`."""
        pattern = re.compile(re.escape(artifact_prefix) + r"-\d[^/]*\.jar$")
        for jar in self.paths():
            if pattern.match(jar.name):
                return jar
        raise InstallError(f"{artifact_prefix} is missing from {self.folder}. Run `make install`.")

    def version_of(self, artifact_prefix: str) -> str:
        return self.find(artifact_prefix).name[len(artifact_prefix) + 1 : -len(".jar")]


def jar_set(lib_dir: Path, module: str) -> JarSet:
    return JarSet(module, lib_dir / module)
