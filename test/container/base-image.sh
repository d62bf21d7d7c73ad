#!/usr/bin/env bash
# Builds (once) and prints the tag of an offline stand-in for the official node:24 slim image:
# Debian bookworm minbase from the machine's apt mirror, the Node 24 binary from the project's
# `node` npm package, the host's npm, and the host's CA bundle (the npm registry may be reached
# through a proxy whose CA only the host trusts). No base image can be pulled here.
# The tag carries the Node version, so a Node upgrade builds a new base; reruns reuse the image,
# and the debootstrapped root filesystem is also kept under $SPIFFE_LB_CACHE (default
# /var/cache/spiffe-lb) so a wiped podman store costs an import, not a debootstrap.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
node_bin="$root/node_modules/node/bin/node"
[ -x "$node_bin" ] || { echo "base-image: $node_bin is missing: run npm ci first" >&2; exit 2; }
node_version=$("$node_bin" -p process.versions.node)
tag="localhost/spiffe-lb-test-base:bookworm-node$node_version"
if podman image exists "$tag"; then echo "$tag"; exit 0; fi

cache=${SPIFFE_LB_CACHE:-/var/cache/spiffe-lb}
mkdir -p "$cache"
rootfs_tar="$cache/bookworm-minbase.tar"
if [ ! -s "$rootfs_tar" ]; then
  # The mirror is the one this machine's apt already uses (deb822 .sources or one-line lists).
  mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1 || true)
  [ -n "$mirror" ] || mirror=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | head -n 1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "base-image: debootstrap bookworm from $mirror" >&2
  debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
    { tail -n 20 "$tmp/debootstrap.log" >&2; exit 1; }
  rm -rf "$tmp"/rootfs/var/cache/apt/archives/*.deb "$tmp"/rootfs/var/lib/apt/lists/* \
    "$tmp"/rootfs/usr/share/doc "$tmp"/rootfs/usr/share/man "$tmp"/rootfs/usr/share/locale
  tar -C "$tmp/rootfs" -cf "$rootfs_tar.part" . && mv "$rootfs_tar.part" "$rootfs_tar"
  rm -rf "$tmp"
  trap - EXIT
fi

# Node, npm and the CA bundle go on top of the cached root filesystem, laid out as in the
# official image (/usr/local/bin/node, /usr/local/lib/node_modules/npm).
rootfs_tag=localhost/spiffe-lb-test-rootfs:bookworm
podman image exists "$rootfs_tag" || podman import "$rootfs_tar" "$rootfs_tag" >/dev/null
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$node_bin" "$ctx/node"
cp -r "$(npm root -g)/npm" "$ctx/npm"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
cat >"$ctx/Containerfile" <<EOT
FROM $rootfs_tag
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOT
podman build --quiet --network host -t "$tag" "$ctx" >/dev/null
echo "$tag"
