#!/usr/bin/env bash
# Container engine for the container tests (tests marked `container`): Docker from Debian's
# packages, debootstrap (the image's local base), docker-compose (compose file checks) and
# promtool (alert rules checks).
# dockerd runs with --iptables=false --bridge=none: it leaves the host's firewall and
# interfaces alone; containers and builds use --network host. Idempotent; needs root.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "docker.sh: not root, container tools left as they are" >&2
  exit 0
fi
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ] || ! command -v promtool >/dev/null 2>&1; then
  apt-get update -qq
fi
if [ "${#missing[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
# promtool (checks and unit-tests deploy/prometheus/alerts.yml, lints the metrics textfile):
# taken out of Debian's prometheus package, without installing the server as a service
if ! command -v promtool >/dev/null 2>&1; then
  tmp=$(mktemp -d) && chmod 755 "$tmp"  # readable by apt's _apt user
  (cd "$tmp" && apt-get download -qq prometheus >/dev/null)
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
  install -m 0755 "$tmp/root/usr/bin/promtool" /usr/local/bin/promtool
  rm -rf "$tmp"
fi
if docker info >/dev/null 2>&1; then
  exit 0
fi
log=${DOCKERD_LOG:-/var/log/harvester-dockerd.log}
nohup dockerd --iptables=false --bridge=none >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker.sh: dockerd is up (log: $log)"
    exit 0
  fi
  sleep 0.5
done
echo "docker.sh: dockerd did not start; the container tests will be skipped. Last log lines:" >&2
tail -n 20 "$log" >&2 || true
exit 0
