#!/usr/bin/env bash
# Ceph's RADOS Gateway (a real S3 server) for the storage and S3 crawl tests: the Debian
# packages of one monitor, one OSD and radosgw (~64 MB; no ceph-mgr, no systemd units used).
# The tests start and tear down their own throwaway cluster on loopback
# (tests/services/ceph_rgw.py); this script only installs it. Idempotent; needs root.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "ceph.sh: not root, Ceph left as it is (the Ceph tests skip when it is missing)" >&2
  exit 0
fi
missing=0
for program in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool ceph; do
  command -v "$program" >/dev/null 2>&1 || missing=1
done
if [ "$missing" = 1 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    ceph-mon ceph-osd radosgw ceph-common >/dev/null
fi
