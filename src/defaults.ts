/**
 * Every numeric default of spiffe-lb, in one place (docs/architecture.md#formats-and-defaults).
 * A leaf: it imports nothing, and every layer may import it. Durations are milliseconds; a CLI
 * flag shows one with `formatDuration` (internal/duration.ts). Config-file defaults the cloud documents (seed
 * values such as `timeoutSec: 30`) stay in config/schema.ts next to the field they belong to.
 */

/** Milliseconds in a second, a minute, an hour and a day: the one place they are spelt. */
export const SECOND_MS = 1000
export const MINUTE_MS = 60 * SECOND_MS
export const HOUR_MS = 60 * MINUTE_MS
export const DAY_MS = 24 * HOUR_MS
const SECOND = SECOND_MS
const DAY = DAY_MS

/** How long a stop (SIGTERM, `close()`) waits for in-flight requests before cutting them. */
export const DRAIN_TIMEOUT_MS = 10 * SECOND

/**
 * V8 flags of the long-running data-plane processes (`serve`, `up`; internal/v8-flags.ts
 * applies them). Under load V8 grows the young generation to 64 MiB semi-spaces and lets the old
 * generation fill with garbage up to several times what is live: 250 MiB resident for some
 * 25 MB live. A 2 MiB semi-space and an old generation allowed 20 % over the live size keep a
 * busy `serve` near its idle size. Optimizing compilation stays on the main thread: run on V8's
 * worker threads, each compile's scratch memory lands in a malloc arena of that thread, which
 * glibc keeps after the compile ends (6–11 MiB of RSS after `bench proxy` load, for the same
 * CPU). `bench proxy` measures both the memory and the CPU these flags cost.
 */
export const DATA_PLANE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=20', '--no-concurrent-recompilation']

/** Connect + TLS handshake to a backend. */
export const HANDSHAKE_TIMEOUT_MS = 10 * SECOND
/** TLS sessions kept per connector for resumption. */
export const MAX_CACHED_SESSIONS = 1000
/**
 * Key-exchange groups the connector offers when a backend service names none. X25519 first and
 * alone in the key share: a backend that answers X25519 (nginx, HAProxy and Envoy on OpenSSL
 * 3.0/BoringSSL defaults) would make a hybrid X25519MLKEM768 share wasted work (`bench
 * handshake` measures the difference per group). P-256 stays offered for FIPS-style backends
 * (one HelloRetryRequest). Post-quantum hybrids are a backend-service setting away.
 */
export const DEFAULT_BACKEND_GROUPS: readonly string[] = ['X25519', 'P-256']

/**
 * A resumed connection stores the backend's newer ticket only when the cached one is older than
 * this: serializing every ticket of every connection costs more than the resumption saves, and
 * a ticket lives for minutes (OpenSSL's default 2 h hint, Node's and nginx's 5 min). When the
 * backend refuses an expired ticket the full handshake that follows stores a new one.
 */
export const SESSION_REFRESH_MS = 60 * SECOND
/** Peer chains remembered per connector for resumed sessions (keyed by session). */
export const PEER_CHAIN_MEMORY_SIZE = 1024
/** Idle keep-alive connection to a backend. */
export const BACKEND_KEEP_ALIVE_TIMEOUT_MS = 4 * SECOND
/**
 * After the proxy sent a WebSocket client its own Close frame (trust in the backend withdrawn),
 * how long the client has to close its side before the connection is cut.
 */
export const WEBSOCKET_CLOSE_GRACE_MS = 1 * SECOND
/** Concurrent streams on one HTTP/2 backend connection (`connectionPool.maxConcurrentStreams`). */
export const BACKEND_MAX_CONCURRENT_STREAMS = 100
/** Waiting for a one-shot backend's response headers, and between body chunks. */
export const BACKEND_HEADERS_TIMEOUT_MS = 300 * SECOND
export const BACKEND_BODY_TIMEOUT_MS = 300 * SECOND
/** How long an endpoint stays ejected after consecutive connection failures. */
export const PASSIVE_EJECTION_MS = 10 * SECOND
/** `outlierDetection` fields a configured block leaves out (the cloud's documented defaults). */
export const OUTLIER_CONSECUTIVE_ERRORS = 5
export const OUTLIER_CONSECUTIVE_GATEWAY_FAILURE = 3
export const OUTLIER_ENFORCING_CONSECUTIVE_ERRORS = 0
export const OUTLIER_ENFORCING_CONSECUTIVE_GATEWAY_FAILURE = 100
export const OUTLIER_BASE_EJECTION_TIME_MS = 30 * SECOND
export const OUTLIER_MAX_EJECTION_PERCENT = 50

/** `frontend.limits` (extension): concurrent client connections. */
export const FRONTEND_MAX_CONNECTIONS = 4096
/** `frontend.limits`: receiving a request's headers (slowloris), and the whole request. */
export const FRONTEND_HEADERS_TIMEOUT_MS = 10 * SECOND
export const FRONTEND_REQUEST_TIMEOUT_MS = 60 * SECOND
/** `frontend.limits`: an idle keep-alive client connection. */
export const FRONTEND_KEEP_ALIVE_TIMEOUT_MS = 5 * SECOND
/** `frontend.limits`: the largest request head in bytes (Node's own default). */
export const FRONTEND_MAX_HEADER_SIZE = 16_384
/** `frontend.limits`: HTTP/2 streams one client connection may have open at once (nginx's default). */
export const FRONTEND_HTTP2_MAX_CONCURRENT_STREAMS = 128
/**
 * `frontend.limits`: HTTP/2 streams a client may reset before their response began, per
 * connection and window, before the connection is sent GOAWAY ENHANCE_YOUR_CALM and closed
 * (rapid reset). Stricter than nghttp2's own last resort (a burst of 1000, then 33 a second).
 */
export const FRONTEND_HTTP2_MAX_RESET_STREAMS = 200
export const FRONTEND_HTTP2_RESET_STREAMS_WINDOW_MS = 10 * SECOND
/** How long a client sent GOAWAY ENHANCE_YOUR_CALM keeps its connection (to read the GOAWAY) before it is cut. */
export const FRONTEND_HTTP2_GOAWAY_GRACE_MS = 1 * SECOND
/** How often the frontend's headers and request timeouts are checked (Node's default is 30 s). */
export const FRONTEND_TIMEOUT_CHECK_MS = 1 * SECOND
/** How long a client connection is kept after the answer to a refused upgrade, for the client to close first. */
export const UPGRADE_REFUSED_LINGER_MS = 2 * SECOND

/** The largest credential file read (a chain, key or bundle map is a few KiB). */
export const MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024
/** One credential file read. */
export const CREDENTIAL_READ_TIMEOUT_MS = 5 * SECOND

/** The `directory` credential source: re-read interval, and the quiet time after a change. */
export const DIRECTORY_POLL_INTERVAL_MS = 60 * SECOND
export const DIRECTORY_DEBOUNCE_MS = 100
/** The `metadata` credential source and the agent: refresh interval (the guest agent's 300 s). */
export const METADATA_POLL_INTERVAL_MS = 300 * SECOND
/** One metadata server request. */
export const METADATA_REQUEST_TIMEOUT_MS = 10 * SECOND
/** Retry back-off of a failing credential source: first and longest wait. */
export const BACKOFF_INITIAL_MS = 1 * SECOND
export const BACKOFF_MAX_MS = 300 * SECOND
/** Largest wait before reopening a SPIFFE Workload API stream: a push source has no poll interval to cap it. */
export const WORKLOAD_API_RETRY_MAX_MS = 30 * SECOND
/** How long `backend --workload-api` waits for the first message to learn its identity. */
export const WORKLOAD_API_FIRST_MESSAGE_TIMEOUT_MS = 30 * SECOND
/** Mode of the Workload API server's Unix socket: only its own user may connect (and get the key). */
export const WORKLOAD_API_SOCKET_MODE = 0o600
/** Back-off of a restarting worker and of a failing directory read: first and longest wait. */
export const RESTART_BACKOFF_INITIAL_MS = 500
export const RESTART_BACKOFF_MAX_MS = 30 * SECOND

/**
 * Federation by SPIFFE bundle endpoint: the poll interval when a bundle carries no
 * `spiffe_refresh_hint` (SPIRE's 5 min), and the bounds every hint is clamped to, so a zero
 * hint cannot busy-loop and a huge one cannot leave a rotated-out CA trusted for days.
 */
export const FEDERATION_REFRESH_MS = 300 * SECOND
export const FEDERATION_MIN_REFRESH_MS = 1 * SECOND
export const FEDERATION_MAX_REFRESH_MS = 3600 * SECOND
/**
 * How long a federated domain's last fetched bundle stays trusted while its endpoint cannot be
 * fetched (`bundleEndpoint.maxBundleAge`); after that the domain is withdrawn (fail closed).
 */
export const FEDERATION_MAX_BUNDLE_AGE_MS = DAY
/** One bundle endpoint request (connect, TLS, headers and body). */
export const FEDERATION_REQUEST_TIMEOUT_MS = 10 * SECOND
/** The largest bundle endpoint answer read. */
export const FEDERATION_MAX_BUNDLE_BYTES = 1024 * 1024
/** `bundle-endpoint --refresh-hint`: the `spiffe_refresh_hint` it serves. */
export const BUNDLE_ENDPOINT_REFRESH_HINT_MS = 300 * SECOND

/** Lifetime of a CA made by `ca create-*` or a pool (gcloud's 315360000s, ten years). */
export const CA_LIFETIME_MS = 3650 * DAY
/** Lifetime of an X.509-SVID issued by `svid issue` (the CIC default, 86400s). */
export const SVID_LIFETIME_MS = 1 * DAY
/** Rotation point of an SVID, in percent of its lifetime (the CIC's rotationWindowPercentage). */
export const ROTATION_PERCENT = 50

/** Cluster (`serve --workers`): status poll of the workers, and how long each ask may take. */
export const CLUSTER_STATUS_INTERVAL_MS = 1 * SECOND
export const CLUSTER_STATUS_TIMEOUT_MS = 2 * SECOND
export const CLUSTER_RELOAD_TIMEOUT_MS = 10 * SECOND
export const CLUSTER_METRICS_TIMEOUT_MS = 5 * SECOND
/** A restarted worker that stays up this long resets its restart back-off. */
export const WORKER_STABLE_MS = 10 * SECOND

/** Grace period of a test backend's stop before connections are cut. */
export const ECHO_BACKEND_GRACE_MS = 5 * SECOND
/** Period of the test backend's long-lived streams (`/ticks`, gRPC `Ticks`). */
export const ECHO_TICK_MS = 100

/** How long a CRL published by `ca revoke` stays fresh (its nextUpdate). */
export const CRL_VALIDITY_MS = DAY

/** Longest wait between two fetches of a CRL url (sooner when its nextUpdate is near). */
export const CRL_REFRESH_MAX_MS = 5 * MINUTE_MS

/** Wait before fetching a CRL url again after a failed fetch (the last good CRL stays). */
export const CRL_RETRY_MS = 10 * SECOND

/** How long a CRL fetch may take. */
export const CRL_FETCH_TIMEOUT_MS = 10 * SECOND

/** How often the inbound listener's certificate files (serverCertificate certFile/keyFile) are checked for a change. */
export const INBOUND_CERT_POLL_MS = 2 * SECOND

/** How long `probe` waits, after a TLS 1.3 handshake, for the backend's verdict on our certificate. */
export const PROBE_SETTLE_MS = SECOND

/** Quiet time after a change of the `serve` config file before it is read (editors write in several steps). */
export const CONFIG_DEBOUNCE_MS = 200
/** The `directory` source's wait before reading again after a read raced the agent's swap. */
export const DIRECTORY_REREAD_DELAY_MS = 50
/** Backend verdicts each connector keeps for repeated leaves (`tls/verified-peers.ts`). */
export const VERIFIED_PEERS_SIZE = 256
/** Backend endpoints whose last handshake `/debug/peers` remembers. */
export const PEER_LOG_SIZE = 1024
/** Random spread of the issuer's rotation point, as a fraction of the SVID's lifetime. */
export const ROTATION_JITTER_FRACTION = 0.02
/** Growth of each retry wait over the previous one, and its random spread (a fraction). */
export const BACKOFF_FACTOR = 2
export const BACKOFF_JITTER = 0.2
/** Passive ejection without an `outlierDetection` block: every endpoint may be ejected (at least one stays tried). */
export const PASSIVE_MAX_EJECTION_PERCENT = 100
/** RSA key size when a key of the same kind as an RSA leaf is generated and its size is unknown. */
export const RSA_MODULUS_BITS = 2048

/** `metadata` source: shortest wait between polls driven by an SVID's validity, so a nearly expired one is not hammered. */
export const METADATA_MIN_POLL_MS = 1 * SECOND
/** The buffered log destination: bytes gathered before a write; a line is never held longer than the interval. */
export const LOG_MIN_WRITE_BYTES = 4096
export const LOG_FLUSH_INTERVAL_MS = 1 * SECOND
/** The log writer (fd-writer.ts): a pipe's backlog before drops, retry pause, exit patience, stderr interval. */
export const LOG_MAX_PENDING_BYTES = 4 * 1024 * 1024
export const LOG_RETRY_MS = 10
export const LOG_EXIT_FLUSH_PATIENCE_MS = 1 * SECOND
export const LOG_TROUBLE_WARN_INTERVAL_MS = 60 * SECOND

/**
 * A lean HTTP/1.1 response's head and first body chunk up to this size are copied into one
 * buffer and written once; a larger chunk follows the head in a corked write of its own.
 */
export const SINGLE_WRITE_MAX_BYTES = 16 * 1024

/**
 * Freed llhttp parsers kept for the next connection (proxy/http1/http1-parser.ts), as node:http
 * keeps up to 1000: a new native parser per backend connection was a visible share of a fresh
 * request's CPU. Each parked parser is a few hundred bytes of native state.
 */
export const HTTP1_PARSER_POOL_SIZE = 256

/** Benchmarks: how long a spiffe-lb or peer child may take to announce it is ready, and to stop. */
export const BENCH_CHILD_START_TIMEOUT_MS = 30 * SECOND
export const BENCH_CHILD_STOP_GRACE_MS = 5 * SECOND
/** Benchmarks: a backend's counters are settled when two reads this far apart agree (at most the second). */
export const BENCH_SETTLE_POLL_MS = 25
export const BENCH_SETTLE_MAX_MS = 2 * SECOND
/** `bench handshake`: closing gives up waiting for the peer after this long; the end of a slice waits this long for handshakes in flight. */
export const BENCH_CLOSE_TIMEOUT_MS = 5 * SECOND
export const BENCH_DRAIN_WATCHDOG_MS = 15 * SECOND
/** `bench proxy`: one GET checking that a frontend answers before it is measured. */
export const BENCH_PROBE_TIMEOUT_MS = 15 * SECOND
/** `bench proxy`: the profiled `serve`'s V8 sampling interval (µs; Node's default is 1000). */
export const CPU_PROFILE_INTERVAL_US = 250

/** How long `serve --check` waits for a delivering credential source's first answer before it says "not reachable". */
export const CHECK_CREDENTIALS_TIMEOUT_MS = 3 * SECOND

/** How often the admin dashboard samples the metrics and pushes a point to open pages. */
export const DASHBOARD_SAMPLE_INTERVAL_MS = SECOND

/** How far back the admin dashboard's traffic charts reach (the sampler keeps this much). */
export const DASHBOARD_WINDOW_MS = 10 * 60_000

/** How many SVID rotations the admin dashboard's identity history keeps (the oldest go first). */
export const DASHBOARD_ROTATION_HISTORY = 50
