#!/usr/bin/env bash
# Build the harvester image where no image registry can be reached, from Debian's archive
# and PyPI only:
#   1. a base image made with debootstrap: Debian bookworm (minbase) with python3,
#      python3-venv and python3-pip (cached as a tarball between runs);
#   2. the wheels of the project and all it needs: built with the host's pip (its cache is
#      warm after `make install-test`), then completed for the base image's own Python
#      (bookworm's 3.11.2 reads markers such as python_full_version < "3.11.3" otherwise
#      than the host's 3.11.7: deploy/docker/missing_requirements.py names what it lacks);
#   3. deploy/Dockerfile built on that base with BASE_IMAGE and WHEELS: no network inside
#      the build.
#
#   deploy/docker/build-local.sh [IMAGE_TAG]        (default archive-harvester:local)
#
# Environment: PYTHON (the host's Python with pip, default .venv/bin/python),
# HARVESTER_IMAGE_CACHE (cache folder, default ~/.cache/archive-harvester/image),
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
# one build at a time on this cache (its tarball, its wheels) and this daemon (the prune below)
exec 9>"$CACHE/.lock"
flock 9
say() { echo "build-local: $(date -u +%H:%M:%S) $*" >&2; }

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

# --- 2. the wheels: built with the host's pip (and its warm cache), completed for the base --
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp -r "$REPO/pyproject.toml" "$REPO/README.md" "$REPO/harvester" "$REPO/pipelines" "$context/"
find "$context" -name __pycache__ -prune -exec rm -rf {} +
wheels="$CACHE/wheels-bookworm"  # kept: the next build downloads only what changed
mkdir -p "$wheels" "$CACHE/pip"
rm -f "$wheels"/archive_harvester-*.whl
PYTHON=${PYTHON:-$( [ -x "$REPO/.venv/bin/python" ] && echo "$REPO/.venv/bin/python" || echo python3)}
stamp=$(sha256sum "$REPO/pyproject.toml" | cut -c1-64)
only_project=()
if [ "$(cat "$wheels/.pyproject.sha256" 2>/dev/null)" = "$stamp" ]; then
  only_project=(--no-deps)  # the dependencies' wheels are those of this pyproject.toml
fi
say "building the wheels with $PYTHON ${only_project[*]}"
"$PYTHON" -m pip wheel -q "${only_project[@]}" --wheel-dir "$wheels" --find-links "$wheels" \
  "$context" 2>&1 | { grep -v "is neither a file nor a directory" || true; } >&2
ca_mount=()
for ca in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
  if [ -f "$ca" ]; then  # pip in the container trusts what the host trusts (proxies)
    ca_mount=(-v "$ca:/etc/ssl/host-ca.crt:ro" -e PIP_CERT=/etc/ssl/host-ca.crt)
    break
  fi
done
# The base's Python reads some markers otherwise than the host's (python_full_version:
# bookworm's 3.11.2): it names what its install would lack and fetches only that (the
# offline install of the image build below proves the folder complete).
say "completing the wheels for $BASE_TAG's python3"
docker run --rm --network host "${ca_mount[@]}" \
  -v "$REPO/deploy/docker/missing_requirements.py:/missing_requirements.py:ro" \
  -v "$wheels:/wheels" -v "$CACHE/pip:/root/.cache/pip" \
  -e PIP_DISABLE_PIP_VERSION_CHECK=1 "$BASE_TAG" sh -ec '
    python3 -m venv /tmp/venv
    for _ in 1 2 3 4 5; do
      lacking=$(/tmp/venv/bin/python /missing_requirements.py /wheels archive-harvester)
      [ -z "$lacking" ] && break
      echo "build-local: fetching for the base image: $(echo $lacking)" >&2
      /tmp/venv/bin/pip wheel -q --wheel-dir /wheels --find-links /wheels $lacking
    done
    [ -z "$lacking" ] || { echo "build-local: still lacking: $lacking" >&2; exit 1; }
    chown -R '"$(id -u):$(id -g)"' /wheels'
echo "$stamp" > "$wheels/.pyproject.sha256"
mkdir -p "$context/wheels"
cp "$wheels"/*.whl "$context/wheels/"

# --- 3. the image, built with no network -----------------------------------------------
previous=$(docker image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)
say "building $TAG on $BASE_TAG with WHEELS=wheels"
DOCKER_BUILDKIT=0 docker build -q --network none -f "$REPO/deploy/Dockerfile" \
  --build-arg BASE_IMAGE="$BASE_TAG" --build-arg WHEELS=wheels -t "$TAG" "$context" >/dev/null
# the throw-away build stage the classic builder leaves behind, and the image this tag named
docker image prune -f --filter label=archive-harvester.stage=build >/dev/null
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$TAG")" ]; then
  docker image rm "$previous" >/dev/null 2>&1 || true  # kept while a container uses it
fi
size=$(docker image inspect -f '{{.Size}}' "$TAG")
say "built $TAG: $((size / 1000000)) MB"
