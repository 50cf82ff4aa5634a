#!/usr/bin/env bash
# Installs what the lab and the tests need on a fresh Debian machine: Debian's MariaDB,
# Prometheus, registry, nginx, wrk and tmux; Go and a JDK with Maven are expected on the
# machine. Go modules, the Kubernetes build and Cassandra's jars are fetched by the Go
# toolchain and by `apimctl lab up` themselves. Idempotent and quiet when all is there.
set -euo pipefail

need_apt=()
check() { # check BINARY PACKAGE
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || need_apt+=("$2")
}
check mariadbd mariadb-server
check mariadb mariadb-client
check prometheus prometheus
check prometheus-blackbox-exporter prometheus-blackbox-exporter
check docker-registry docker-registry
check nginx nginx-light
check wrk wrk
check tmux tmux
check hyperfine hyperfine
check node nodejs   # the lab's Azurite (off-site backups), installed with npm
check npm npm
check mydumper mydumper # the backup benchmark's peer

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${need_apt[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian starts packaged services on install; the lab runs its own instances, so stop
  # the system ones (through the service manager, never by process name).
  for svc in prometheus prometheus-node-exporter prometheus-blackbox-exporter docker-registry nginx mariadb; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
      $SUDO systemctl stop "$svc" || true
    elif command -v service >/dev/null 2>&1; then
      $SUDO service "$svc" stop >/dev/null 2>&1 || true
    fi
  done
fi

for tool in go java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "deps: $tool is required and not on PATH" >&2; exit 1; }
done
