import { errorDoc as e, errorFactory, type ErrorRegistry, type RegistryOwner } from '../internal/errors.ts'

/** Codes of the benchmarks (`src/bench`, the `bench handshake` and `bench proxy` commands). */
export const BENCH_ERRORS = {
  ERR_SPIFFE_BENCH_BAD_OPTION: e('a benchmark option has a value it does not accept', 'a duration without a unit, an unknown matrix value or a count out of range', 'use a value of the form the message gives (`bench … --help` lists them)'),
  ERR_SPIFFE_BENCH_ABORTED: e('the handshake benchmark was interrupted before it finished', 'ctrl-c or SIGTERM during a run', 'run it again; no report is written for an interrupted run'),
  ERR_SPIFFE_BENCH_STOPPED: e('a benchmark process started after the benchmark was stopped', 'an interrupt while the world was still starting', 'run it again'),
  ERR_SPIFFE_BENCH_CHILD_FAILED: e('a benchmark child process (backend, proxy, forwarder) exited or failed before it was ready', 'a busy port, a missing openssl, or a crash; its stderr is in the message', 'read the quoted stderr and fix what it says'),
  ERR_SPIFFE_BENCH_NO_RESPONSES: e('a side of the proxy benchmark did not answer 2xx before measuring', 'the proxy or backend rejects the benchmark\'s requests (identity, trust) or is not up', 'read the quoted answer; check the side works with curl first'),
  ERR_SPIFFE_BENCH_BACKEND_STATS: e('the backend\'s /stats answer was not usable', 'the target is not a `spiffe-lb backend`, or it failed', 'point the benchmark at a spiffe-lb backend'),
  ERR_SPIFFE_BENCH_NO_PROCFS: e('/proc cannot be read to measure process cpu', 'a platform without procfs (macos) or a restricted container', 'run the proxy benchmark on linux with /proc mounted'),
  ERR_SPIFFE_BENCH_FILE_UNREADABLE: e('a file given to the benchmark cannot be read', 'a wrong path or permissions', 'fix the path'),
  ERR_SPIFFE_BENCH_BAD_PROFILE: e('the cpu profile of the profiled `serve` is missing or not a V8 `.cpuprofile`', 'the profiled serve was killed before it could write its profile, or a full disk', 'run it again; the rest of the report stands without the breakdown'),
  ERR_SPIFFE_BENCH_WRITE_FAILED: e('a benchmark report file cannot be written', 'a read-only or full disk, or a wrong --out', 'choose a writable --out directory')
} as const satisfies ErrorRegistry

/** One of the {@link BENCH_ERRORS} codes. */
export type BenchErrorCode = keyof typeof BENCH_ERRORS

/** Makes an error with one of the {@link BENCH_ERRORS} codes. */
export const benchError = errorFactory(BENCH_ERRORS)

/** `src/bench` owns the `BENCH` prefix. */
export const BENCH_ERROR_REGISTRY: RegistryOwner = { folder: 'bench', prefixes: ['BENCH'], codes: BENCH_ERRORS }
