#!/usr/bin/env bash
# Build the harvester image where no image registry can be reached, from Debian's archive
# and PyPI only:
#   1. a base image made with debootstrap: Debian bookworm (minbase) with python3,
#      python3-venv and python3-pip (cached as a tarball between runs);
#   2. the wheels of the project and all it needs, resolved by the base image's own
#      Python (bookworm's 3.11.2: markers such as python_full_version < "3.11.3" are then
#      read right, which a resolution on the host's Python would miss);
#   3. deploy/Dockerfile built on that base with BASE_IMAGE and WHEELS: no network inside
#      the build.
#
#   deploy/docker/build-local.sh [IMAGE_TAG]        (default archive-harvester:local)
#
# Environment: HARVESTER_IMAGE_CACHE (cache folder, default ~/.cache/archive-harvester/image),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), BASE_TAG (default
# archive-harvester-base:bookworm). Needs root (debootstrap) and a running docker daemon.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TAG=${1:-archive-harvester:local}
BASE_TAG=${BASE_TAG:-archive-harvester-base:bookworm}
CACHE=${HARVESTER_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/archive-harvester/image}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=python3,python3-venv,python3-pip
mkdir -p "$CACHE"
say() { echo "build-local: $*" >&2; }

# --- 1. the base image ----------------------------------------------------------------
if ! docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
  tarball="$CACHE/bookworm-minbase-${PACKAGES//,/-}.tar"
  if [ ! -s "$tarball" ]; then
    root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    say "debootstrap bookworm ($PACKAGES) from $MIRROR"
    debootstrap --variant=minbase --include="$PACKAGES" bookworm "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CACHE/debootstrap.log" >&2; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  say "importing $tarball as $BASE_TAG"
  docker import "$tarball" "$BASE_TAG" >/dev/null
fi

# --- 2. the wheels, resolved by the base image's Python --------------------------------
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp -r "$REPO/pyproject.toml" "$REPO/README.md" "$REPO/harvester" "$REPO/pipelines" "$context/"
find "$context" -name __pycache__ -prune -exec rm -rf {} +
wheels="$CACHE/wheels-bookworm"  # kept: the next build downloads only what changed
mkdir -p "$wheels" "$CACHE/pip"
rm -f "$wheels"/archive_harvester-*.whl
ca_mount=()
for ca in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
  if [ -f "$ca" ]; then  # pip in the container trusts what the host trusts (proxies)
    ca_mount=(-v "$ca:/etc/ssl/host-ca.crt:ro" -e PIP_CERT=/etc/ssl/host-ca.crt)
    break
  fi
done
say "building the wheels with $BASE_TAG's python3"
docker run --rm --network host "${ca_mount[@]}" \
  -v "$context:/src:ro" -v "$wheels:/wheels" -v "$CACHE/pip:/root/.cache/pip" \
  -e PIP_DISABLE_PIP_VERSION_CHECK=1 "$BASE_TAG" sh -ec '
    python3 -m venv /tmp/venv
    cp -r /src /tmp/src
    /tmp/venv/bin/pip wheel -q --wheel-dir /wheels --find-links /wheels /tmp/src
    chown -R '"$(id -u):$(id -g)"' /wheels'
mkdir -p "$context/wheels"
cp "$wheels"/*.whl "$context/wheels/"

# --- 3. the image, built with no network -----------------------------------------------
say "building $TAG on $BASE_TAG with WHEELS=wheels"
DOCKER_BUILDKIT=0 docker build -q --network none -f "$REPO/deploy/Dockerfile" \
  --build-arg BASE_IMAGE="$BASE_TAG" --build-arg WHEELS=wheels -t "$TAG" "$context" >/dev/null
# the throw-away build stage the classic builder leaves behind
docker image prune -f --filter label=archive-harvester.stage=build >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$TAG")
say "built $TAG: $((size / 1000000)) MB"
