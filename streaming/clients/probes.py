"""Small probes of a service: is its port open, does its URL answer, where is the metastore.

Kept apart from the service supervisor (streaming/runtime/), so that a client can say "not running, start it
with ..." without importing how services are started.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

from streaming.settings import Settings


def tcp_open(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout_s: float = 2.0, headers: dict | None = None, context=None) -> str | None:
    """None when `url` answers 2xx, else why not. `headers` and the TLS `context` as `registry_http` gives."""
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=timeout_s, context=context) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (OSError, ValueError) as error:
        return str(getattr(error, "reason", error))


def metastore_jdbc_url(s: Settings) -> str:
    return f"jdbc:derby://{s.metastore_host}:{s.metastore_port}/metastore_db;create=true"


def metastore_probe(s: Settings) -> str | None:
    """None when the metastore's port answers, else why not."""
    return None if tcp_open(s.metastore_host, s.metastore_port) else "port closed"
