# spiffe-lb container image: the data plane (`serve`) by default, any other command by argument.
#
#   docker build -t spiffe-lb .
#   docker run --read-only -v ./config.yaml:/etc/spiffe-lb/config.yaml:ro \
#     -v /var/run/secrets/workload-spiffe-credentials:/var/run/secrets/workload-spiffe-credentials:ro \
#     -p 8080:8080 spiffe-lb
#
# NODE_IMAGE is the base of every stage: an official Node 24 slim image, or a mirror of it.
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

# Production dependencies only, from the lockfile. No install scripts: none of them needs one,
# and the package's own `prepare` (build) belongs to the build stage.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# dist/ from the TypeScript sources, with the dev dependencies (TypeScript, Node types).
# --ignore-scripts skips the `node` dev dependency's download of a second Node: the image's
# own Node 24 compiles.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/copy-assets.ts ./scripts/
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json && node scripts/copy-assets.ts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    SPIFFE_LB_HEALTHCHECK_URL=http://127.0.0.1:9901/readyz
WORKDIR /opt/spiffe-lb
COPY package.json README.md ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The root filesystem may be read-only: the config is mounted at /etc/spiffe-lb, credentials
# are mounted read-only, and what spiffe-lb writes (`up`'s CA and demo files) goes to the
# working directory /var/lib/spiffe-lb, which a read-only deployment mounts as a volume.
RUN mkdir -p /etc/spiffe-lb /var/lib/spiffe-lb && chown 65532:65532 /var/lib/spiffe-lb
# A numeric user, so Kubernetes' runAsNonRoot can verify it without a passwd entry.
USER 65532:65532
WORKDIR /var/lib/spiffe-lb
# Proxy frontend and admin (/metrics, /healthz, /readyz, /status): the defaults the examples use.
EXPOSE 8080 9901
# Ready = a valid SVID and a healthy endpoint. Node's own fetch: the image carries no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.SPIFFE_LB_HEALTHCHECK_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `serve` drains in-flight requests on SIGTERM (--drain-timeout, 10s by default) and exits 0;
# give the container a stop timeout above the drain timeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/opt/spiffe-lb/dist/cli/main.js"]
CMD ["serve", "-c", "/etc/spiffe-lb/config.yaml"]
