"""The JVM jars and the Python packages must carry the same Spark and Delta versions."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pyspark
import pytest

from streaming.clients.jars import jar_set, pom_versions
from streaming.settings import Settings


@pytest.fixture(scope="module")
def lib_dir() -> Path:
    return Settings.from_env({}).f1_jvm_lib_dir


def test_pyspark_matches_the_pom():
    assert pyspark.__version__ == pom_versions()["spark.version"]


def test_delta_python_package_matches_the_pom():
    assert version("delta-spark") == pom_versions()["delta.version"]


def test_spark_connector_jars_match_pyspark(lib_dir):
    spark = jar_set(lib_dir, "spark")
    assert spark.version_of("spark-sql-kafka-0-10_2.13") == pyspark.__version__
    assert spark.version_of("spark-token-provider-kafka-0-10_2.13") == pyspark.__version__
    delta_spark = f"delta-spark_{'.'.join(pyspark.__version__.split('.')[:2])}_2.13"
    assert spark.version_of(delta_spark) == version("delta-spark")
    assert spark.version_of("delta-storage") == version("delta-spark")
    protobuf = [p for p in spark.paths() if p.name.startswith("spark-protobuf_2.13-")]
    for jar in protobuf:  # opt-in (-Pspark-protobuf): not served by the registry our CI reaches
        assert jar.name == f"spark-protobuf_2.13-{pyspark.__version__}.jar"


def test_no_jar_clashes_with_pyspark(lib_dir):
    """Only connector jars are added: a second Hadoop, Parquet, Jackson or Scala would clash."""
    bundled = {p.name.rsplit("-", 1)[0] for p in (Path(pyspark.__file__).parent / "jars").glob("*.jar")}
    added = {p.name.rsplit("-", 1)[0] for p in jar_set(lib_dir, "spark").paths()}
    assert not added & bundled


def test_derby_client_matches_pysparks_embedded_derby(lib_dir):
    bundled = next((Path(pyspark.__file__).parent / "jars").glob("derby-*.jar"))
    derby_version = bundled.name[len("derby-") : -len(".jar")]
    assert jar_set(lib_dir, "spark").version_of("derbyclient") == derby_version
    assert jar_set(lib_dir, "metastore").version_of("derbynet") == derby_version


def test_kafka_broker_is_kraft_4(lib_dir):
    kafka_version = jar_set(lib_dir, "kafka").version_of("kafka_2.13")
    assert kafka_version == pom_versions()["kafka.version"]
    assert int(kafka_version.split(".")[0]) >= 4


def test_protobuf_java_matches_the_python_runtime_and_protoc(lib_dir):
    """protoc 33.x (grpcio-tools) writes descriptors that protobuf-java 4.33.x and protobuf 6.33.x read."""
    java_minor = jar_set(lib_dir, "spark").version_of("protobuf-java").split(".")[1]
    assert java_minor == version("protobuf").split(".")[1]
    assert jar_set(lib_dir, "spark").find("f1-spark-functions")


def test_s3_jars_match_pysparks_hadoop_and_add_no_clash(lib_dir):
    """hadoop-aws must be the release of pyspark's Hadoop client; its SDK jars must not shadow pyspark's."""
    bundled = Path(pyspark.__file__).parent / "jars"
    hadoop = next(bundled.glob("hadoop-client-api-*.jar")).name[len("hadoop-client-api-") : -len(".jar")]
    s3 = jar_set(lib_dir, "s3")
    assert s3.version_of("hadoop-aws") == hadoop == pom_versions()["hadoop.version"]
    assert s3.version_of("s3") == pom_versions()["aws.sdk.version"]
    names = {p.name.rsplit("-", 1)[0] for p in bundled.glob("*.jar")}
    assert not names & {p.name.rsplit("-", 1)[0] for p in s3.paths()}
    # not the SDK's shaded bundle of every AWS service, and no second Netty or HttpClient beside pyspark's
    extra = [p.name for p in s3.paths() if p.name.startswith(("bundle-", "netty-", "httpclient-"))]
    assert extra == [f"netty-nio-client-{pom_versions()['aws.sdk.version']}.jar"]  # the SDK's, not Netty
