#!/usr/bin/env bash
# The slow container suite (npm run test:container; .ci/run runs it after npm test): builds the
# Dockerfile with podman on an offline-assembled Node 24 base and runs the image. Needs root,
# podman, runc and debootstrap (.ci/run installs them). Where podman cannot run at all it says so
# and skips; under CI=true a missing podman is a failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
# The project's Node 24 first, as npm scripts have it (tap runs the tests with the first node).
export PATH="$PWD/node_modules/.bin:$PATH"

# The npm package test needs only npm; the image test needs podman.
suites=("$here/npm-pack.container-test.ts")
if ! command -v podman >/dev/null; then
  [ "${CI:-}" = true ] && { echo "test:container: podman is required in CI (apt-get install podman runc debootstrap)" >&2; exit 1; }
  echo "test:container: SKIPPED the image test: podman is not installed (apt-get install podman runc debootstrap)"
elif ! podman info >/dev/null 2>&1; then
  echo "test:container: SKIPPED the image test: podman cannot run here: $(podman info 2>&1 | tail -n 1)"
else
  command -v runc >/dev/null || { echo "test:container: runc is required (apt-get install runc)" >&2; exit 1; }
  started=$(date +%s)
  SPIFFE_LB_BASE_IMAGE=$(bash "$here/base-image.sh")
  export SPIFFE_LB_BASE_IMAGE
  echo "test:container: base image $SPIFFE_LB_BASE_IMAGE ready after $(( $(date +%s) - started ))s"
  suites+=("$here/image.container-test.ts")
fi
./node_modules/.bin/tap --timeout 1200 --jobs 1 "${suites[@]}"
