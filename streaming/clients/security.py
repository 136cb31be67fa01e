"""The security profile (F1_SECURITY_PROFILE): every client's connection settings, and the local TLS files.

One function per kind of client builds its configuration from the settings, so the profile's options
live here and nowhere else:

  kafka_config(s)          confluent-kafka (librdkafka) producers, consumers and admin clients
  kafka_java_config(s)     Kafka's Java clients, as properties (Kafka's own tools)
  spark_kafka_options(s)   Spark's Kafka source and sink (the same, `kafka.`-prefixed)
  registry_config(s)       confluent-kafka's SchemaRegistryClient
  registry_http(s)         plain HTTP calls to the registry (urllib): auth header and TLS context

In the plaintext profile they hold the addresses only. In the secure profile Kafka clients use SASL_SSL
with SCRAM-SHA-512 and the registry clients HTTPS with basic authentication, all trusting the PEM CA of
`Settings.tls_ca_file` (Java clients read it as a PEM trust store, so no JKS and no trust store password).

`ensure_local_tls` makes the local runtime's CA and its one server certificate (127.0.0.1 and
localhost, used by the broker and the registry) with the JDK's keytool, on first start.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

from streaming.errors import ConfigError, InstallError
from streaming.settings import Settings

SASL_MECHANISM = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 8192
SERVER_KEYSTORE = "server.p12"  # the broker's and registry's key and certificate chain
TRUSTSTORE = "truststore.p12"  # the CA, for the broker's own connections (inter-broker, controller)
_CA_KEYSTORE = "ca.p12"  # the CA's key: only needed to issue another certificate
_PASSWORD_ENV = "F1_TLS_KEYSTORE_PASSWORD"  # keytool reads it from the environment (-storepass:env)


# Clients ---------------------------------------------------------------------------------------------------


def kafka_config(s: Settings) -> dict[str, str]:
    """confluent-kafka configuration (bootstrap servers and security); add the client's own keys to it."""
    config = {"bootstrap.servers": s.kafka_bootstrap_servers}
    if s.secure:
        config |= {
            "security.protocol": "SASL_SSL",
            "sasl.mechanisms": SASL_MECHANISM,
            "sasl.username": s.kafka_sasl_username,
            "sasl.password": s.kafka_sasl_password,
            "ssl.ca.location": str(s.tls_ca_file),
        }
    return config


def kafka_java_config(s: Settings) -> dict[str, str]:
    """Kafka Java client properties (bootstrap servers and security)."""
    config = {"bootstrap.servers": s.kafka_bootstrap_servers}
    if s.secure:
        config |= {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": SASL_MECHANISM,
            "sasl.jaas.config": scram_jaas_config(s.kafka_sasl_username, s.kafka_sasl_password),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(s.tls_ca_file),
        }
    return config


def spark_kafka_options(s: Settings) -> dict[str, str]:
    """Options of Spark's Kafka source and sink. Spark redacts the JAAS option's password in plans and UI."""
    return {f"kafka.{key}": value for key, value in kafka_java_config(s).items()}


def write_kafka_java_config(s: Settings, folder: Path) -> Path:
    """`kafka_java_config` as a properties file only its owner can read (for Kafka's command-line tools)."""
    path = Path(folder) / "client.properties"
    path.touch(mode=0o600)
    path.write_text("".join(f"{key}={value}\n" for key, value in kafka_java_config(s).items()))
    return path


def scram_jaas_config(username: str, password: str) -> str:
    # Settings refuse quotes and backslashes in credentials, so they need no escaping here.
    return (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{username}" password="{password}";'
    )


def registry_config(s: Settings) -> dict[str, str]:
    """confluent-kafka SchemaRegistryClient configuration."""
    config = {"url": s.schema_registry_url}
    if s.secure:
        config |= {
            "basic.auth.user.info": f"{s.schema_registry_username}:{s.schema_registry_password}",
            "ssl.ca.location": str(s.tls_ca_file),
        }
    return config


def registry_http(s: Settings) -> dict:
    """Keyword arguments for a urllib call to the registry: `headers` and the TLS `context`."""
    if not s.secure:
        return {"headers": {}, "context": None}
    token = base64.b64encode(f"{s.schema_registry_username}:{s.schema_registry_password}".encode()).decode()
    context = ssl.create_default_context(cafile=str(s.tls_ca_file)) if s.tls_ca_file.exists() else None
    return {"headers": {"Authorization": f"Basic {token}"}, "context": context}


# The local runtime's TLS files -----------------------------------------------------------------------------


def keytool(s: Settings) -> str:
    """The JDK's keytool, beside the `java` the services run on."""
    found = str(Path(s.java_home) / "bin" / "keytool") if s.java_home else shutil.which("keytool")
    if not found or not Path(found).exists():
        raise InstallError("keytool not found (it comes with the JDK). Install a JDK 17+ or set JAVA_HOME.")
    return found


def _keystore_password(s: Settings) -> str:
    if not s.f1_tls_keystore_password:
        raise ConfigError(
            [f"{_PASSWORD_ENV} is not set: the local services of F1_SECURITY_PROFILE=secure need it."]
        )
    return s.f1_tls_keystore_password


def _keytool(s: Settings, *args: str) -> None:
    env = {**os.environ, _PASSWORD_ENV: _keystore_password(s)}
    result = subprocess.run([keytool(s), *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise InstallError(f"keytool {args[0]} failed:\n{result.stdout}{result.stderr}")


def ensure_local_tls(s: Settings) -> Path:
    """The local runtime's CA and server certificate under F1_STATE_DIR/tls, made on first use; its folder.

    Made in a scratch folder and renamed into place, so a crash half-way leaves no half-made set.
    """
    _keystore_password(s)
    if s.f1_tls_ca_file and Path(s.f1_tls_ca_file) != s.tls_dir / "ca.pem":
        raise ConfigError(
            [
                f"F1_TLS_CA_FILE={s.f1_tls_ca_file!r} is not valid for the local services, which use their "
                f"own CA ({s.tls_dir / 'ca.pem'}): leave it empty."
            ]
        )
    tls = s.tls_dir
    if (tls / SERVER_KEYSTORE).exists():
        _check_password(s, tls / SERVER_KEYSTORE)
        return tls
    tls.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".tls-", dir=tls.parent))
    store = ("-storetype", "PKCS12", "-storepass:env", _PASSWORD_ENV)
    valid = ("-keyalg", "RSA", "-keysize", "2048", "-validity", "3650")
    try:
        ca, server = str(scratch / _CA_KEYSTORE), str(scratch / SERVER_KEYSTORE)
        _keytool(s, "-genkeypair", "-alias", "ca", "-dname", "CN=f1-telemetry local CA", "-ext", "bc:c",
                 *valid, "-keystore", ca, *store)  # fmt: skip
        _keytool(s, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, *store,
                 "-file", str(scratch / "ca.pem"))  # fmt: skip
        _keytool(s, "-genkeypair", "-alias", "server", "-dname", "CN=localhost", *valid,
                 "-keystore", server, *store)  # fmt: skip
        _keytool(s, "-certreq", "-alias", "server", "-keystore", server, *store,
                 "-file", str(scratch / "server.csr"))  # fmt: skip
        # Clients check the name they connect to: every local service is reached as 127.0.0.1 (or
        # localhost). clientAuth too: the broker presents it to its own controller listener.
        _keytool(s, "-gencert", "-alias", "ca", "-keystore", ca, *store, "-rfc", "-validity", "3650",
                 "-infile", str(scratch / "server.csr"), "-outfile", str(scratch / "server.pem"),
                 "-ext", "san=ip:127.0.0.1,dns:localhost", "-ext", "ku:c=digitalSignature,keyEncipherment",
                 "-ext", "eku=serverAuth,clientAuth")  # fmt: skip
        chain = scratch / "chain.pem"
        chain.write_text((scratch / "server.pem").read_text() + (scratch / "ca.pem").read_text())
        _keytool(s, "-importcert", "-noprompt", "-alias", "server", "-file", str(chain),
                 "-keystore", server, *store)  # fmt: skip
        _keytool(s, "-importcert", "-noprompt", "-alias", "ca", "-file", str(scratch / "ca.pem"),
                 "-keystore", str(scratch / TRUSTSTORE), *store)  # fmt: skip
        for name in ("server.csr", "server.pem", "chain.pem"):
            (scratch / name).unlink()
        for path in scratch.iterdir():
            path.chmod(0o644 if path.name == "ca.pem" else 0o600)
        scratch.rename(tls)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return tls


def _check_password(s: Settings, keystore: Path) -> None:
    """A clear error, instead of a broker that cannot open its key store, when the password changed."""
    try:
        _keytool(
            s, "-list", "-keystore", str(keystore), "-storetype", "PKCS12", "-storepass:env", _PASSWORD_ENV
        )
    except InstallError:
        raise ConfigError(
            [
                f"{_PASSWORD_ENV} does not open {keystore}: set the password it was made with, or delete "
                f"{keystore.parent} to make a new CA and certificate."
            ]
        ) from None


def scram_credential_argument(username: str, password: str) -> str:
    """kafka-storage's `--add-scram` value for `username`, salted here so the password is never an argument.

    SCRAM's salted password is PBKDF2-HMAC-SHA-512 of the password (RFC 5802 `Hi`), as Kafka computes it.
    """
    salt = secrets.token_bytes(32)
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, SCRAM_ITERATIONS)
    b64 = base64.b64encode
    return (
        f"{SASL_MECHANISM}=[name={username},iterations={SCRAM_ITERATIONS},"
        f"salt={b64(salt).decode()},saltedpassword={b64(salted).decode()}]"
    )
