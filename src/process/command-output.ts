import type { Logger } from 'pino'

/**
 * Exit codes of every spiffe-lb command (docs/architecture.md#process-model): 0 success, 1 a
 * verdict or check failed, 2 usage or config error.
 */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const

/**
 * Where a command writes: the process's streams, or a capture in tests. A long-running command
 * logs through `log` (command-log.ts: one output, JSON or pretty, on stdout).
 */
export interface CommandOutput { stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, log?: Logger }
