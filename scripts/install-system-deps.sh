#!/usr/bin/env bash
# Installs what f1-telemetry needs from the system: Java 17+, Maven, Prometheus with its node exporter and
# pushgateway (Debian packages) and uv.
# Idempotent: it installs only what is missing. Without root it prints the command to run instead.
set -euo pipefail

UV_VERSION="${UV_VERSION:-0.13.8}"
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-node-exporter >/dev/null 2>&1 || missing+=(prometheus-node-exporter)
command -v prometheus-pushgateway >/dev/null 2>&1 || missing+=(prometheus-pushgateway)
command -v make >/dev/null 2>&1 || missing+=(make)

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # --no-install-recommends: Prometheus would otherwise pull in exporters we start ourselves.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them, for example: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "installing uv ${UV_VERSION}"
  # root on a fresh machine: pip would warn about it on every install, which a new user reads as an error
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

java_major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
if [[ -z "$java_major" || "$java_major" -lt 17 ]]; then
  echo "Java 17 or newer is needed (found: ${java_major:-none}). Set JAVA_HOME or install openjdk-17." >&2
  exit 1
fi
