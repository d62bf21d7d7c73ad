#!/usr/bin/env bash
# The slow container suite (npm run test:container; .ci/run runs it after npm test): builds the
# Dockerfile with podman on an offline-assembled Node 24 base and runs the image. Needs root,
# podman, runc and debootstrap (.ci/run installs them). Where podman cannot run at all it says so
# and skips; under CI=true a missing podman is a failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}

skip () {
  echo "test:container: SKIPPED: $1"
  exit 0
}
if ! command -v podman >/dev/null; then
  [ "${CI:-}" = true ] && { echo "test:container: podman is required in CI (apt-get install podman runc debootstrap)" >&2; exit 1; }
  skip "podman is not installed (apt-get install podman runc debootstrap)"
fi
podman info >/dev/null 2>&1 || skip "podman cannot run here: $(podman info 2>&1 | tail -n 1)"
command -v runc >/dev/null || { echo "test:container: runc is required (apt-get install runc)" >&2; exit 1; }

started=$(date +%s)
SPIFFE_LB_BASE_IMAGE=$(bash "$here/base-image.sh")
export SPIFFE_LB_BASE_IMAGE
echo "test:container: base image $SPIFFE_LB_BASE_IMAGE ready after $(( $(date +%s) - started ))s"
./node_modules/.bin/tap --timeout 1200 --jobs 1 "$here"/*.container-test.ts
