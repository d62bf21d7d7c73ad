import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SpiffeLbError, quote } from '../internal/errors.ts'
import { v8FlagsFor } from '../internal/v8-flags.ts'
import { isReadyMessage, type ReadyMessage } from '../process/ready-message.ts'
import { benchError } from './errors.ts'
import { BENCH_CHILD_START_TIMEOUT_MS, BENCH_CHILD_STOP_GRACE_MS } from '../defaults.ts'

/** A process a benchmark started (backend, proxy, baseline forwarder, openssl s_server). */
export interface BenchChild {
  readonly pid: number
  /** The first match of the ready pattern, with its groups (undefined for a child that announced readiness over IPC). */
  readonly ready: RegExpMatchArray | undefined
  /** The readiness message of a spiffe-lb child ({@link StartChildOptions.ready} `'ipc'`). */
  readonly announced?: ReadyMessage
  /** Everything written to stderr so far (capped at 64 KiB), for error messages. */
  stderr (): string
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 000); resolves once it exited. Idempotent. */
  stop (graceMs?: number): Promise<void>
}

/** Options of {@link startChild}. */
export interface StartChildOptions {
  /** Executable; default this Node (`process.execPath`). */
  command?: string
  args: readonly string[]
  /**
   * Resolves once a stdout or stderr line matches, or, with `'ipc'`, once a spiffe-lb child
   * sends its readiness message (process/ready-message.ts) over an IPC channel.
   */
  ready: RegExp | 'ipc'
  /** Give up (and kill the child) after this long; default 30 000 ms. */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Label used in errors, e.g. `backend`. */
  name: string
  /**
   * Write the child's stdout to this file instead of a pipe this process drains: a proxy's
   * access log then costs what nginx's file access log costs, not a pipe read in the
   * process that also runs the load. With `ready: 'ipc'` only (a line is looked for on stderr).
   */
  stdoutFile?: string
}

/** Returns the options that start the spiffe-lb CLI with `args` and wait for its readiness message. */
export function spiffeLbChild (name: string, ...args: string[]): StartChildOptions {
  return { name, args: cliArgs(...args), ready: 'ipc' }
}

/**
 * Returns the args that run the spiffe-lb CLI with `args` (source or built, like the running
 * code), with the V8 flags the command runs with: an IPC child does not start over to add them.
 */
export function cliArgs (...args: string[]): string[] {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js'
  return [...v8FlagsFor(args[0]), fileURLToPath(new URL(`../cli/main.${ext}`, import.meta.url)), ...args]
}

/**
 * Starts a child process and resolves once it prints a line matching `ready`. Rejects with
 * `ERR_SPIFFE_BENCH_CHILD_FAILED` (quoting its stderr) if it exits or times out first.
 */
export async function startChild (options: StartChildOptions): Promise<BenchChild> {
  const out = options.stdoutFile === undefined ? 'pipe' : openSync(options.stdoutFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(options.command ?? process.execPath, options.args, {
      stdio: options.ready === 'ipc' ? ['ignore', out, 'pipe', 'ipc'] : ['ignore', out, 'pipe'],
      env: options.env ?? process.env
    })
  } finally {
    // The child holds its own copy of the descriptor.
    if (typeof out === 'number') closeSync(out)
  }
  let stderr = ''
  let exited = child.exitCode !== null
  const exit = new Promise<void>((resolve) => { child.once('exit', () => { exited = true; resolve() }) })
  let announced: ReadyMessage | undefined
  const pattern = options.ready
  const expected = pattern === 'ipc' ? 'a spiffe-lb:ready message' : `a line matching ${String(pattern)}`
  const ready = await new Promise<RegExpMatchArray | undefined>((resolve, reject) => {
    let buffered = ''
    const onData = (chunk: Buffer, isErr: boolean): void => {
      const text = chunk.toString('utf8')
      if (isErr && stderr.length < 65_536) stderr += text
      buffered += text
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      if (pattern === 'ipc') return
      for (const line of lines) {
        const m = line.match(pattern)
        if (m !== null) { finish(); resolve(m); return }
      }
    }
    const onOut = (c: Buffer): void => { onData(c, false) }
    const onErr = (c: Buffer): void => { onData(c, true) }
    const fail = (why: string): void => {
      finish()
      child.kill('SIGKILL')
      reject(benchError('ERR_SPIFFE_BENCH_CHILD_FAILED',
        `${options.name} ${why} before ${expected}: ${quote(stderr.trim(), 600)}`, { at: options.name }))
    }
    const onExit = (code: number | null): void => { fail(`exited with ${String(code)}`) }
    const timer = setTimeout(() => { fail(`did not start within ${options.timeoutMs ?? BENCH_CHILD_START_TIMEOUT_MS} ms`) }, options.timeoutMs ?? BENCH_CHILD_START_TIMEOUT_MS)
    const onMessage = (message: unknown): void => {
      if (!isReadyMessage(message)) return
      announced = message
      finish()
      resolve(undefined)
    }
    const finish = (): void => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      child.stdout?.off('data', onOut)
    }
    child.stdout?.on('data', onOut)
    child.stderr?.on('data', onErr)
    child.on('message', onMessage)
    child.once('exit', onExit)
    child.once('error', (err) => { fail(`could not start (${err.message})`) })
  })
  // Keep draining stdout so a chatty child never blocks on a full pipe.
  child.stdout?.resume()
  // The channel carried its one message; it must not keep this process alive.
  if (child.connected) child.disconnect()
  return {
    pid: child.pid ?? -1,
    ready,
    ...(announced === undefined ? {} : { announced }),
    stderr: () => stderr,
    async stop (graceMs = BENCH_CHILD_STOP_GRACE_MS) {
      if (exited) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
      await exit
      clearTimeout(timer)
    }
  }
}

/** Clock ticks per second of /proc/PID/stat (USER_HZ; 100 on Linux builds). */
const USER_HZ = 100

function procfsError (err: unknown): SpiffeLbError {
  return benchError('ERR_SPIFFE_BENCH_NO_PROCFS', `cannot read /proc to measure process cpu and memory: ${(err as Error).message}`, { cause: err })
}

/** Returns `pid` and every descendant that is alive now, from /proc (parents read from `stat`). */
export function processTree (pid: number): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc').filter((n) => /^\d+$/.test(n))
  } catch (err) {
    throw procfsError(err)
  }
  const children = new Map<number, number[]>()
  for (const name of entries) {
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8')
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)])
    } catch { /* the process exited meanwhile */ }
  }
  const out: number[] = []
  const queue = [pid]
  const seen = new Set<number>()
  while (queue.length > 0) {
    const p = queue.pop() ?? -1
    if (seen.has(p)) continue
    seen.add(p)
    out.push(p)
    queue.push(...(children.get(p) ?? []))
  }
  return out
}

/**
 * Returns the CPU time (user + system, µs) of `pid` and all its descendants (cluster workers
 * included), read from /proc. Throws `ERR_SPIFFE_BENCH_NO_PROCFS` where /proc is unavailable.
 */
export function processTreeCpuMicros (pid: number): number {
  let ticks = 0
  for (const p of processTree(pid)) {
    try {
      const text = readFileSync(`/proc/${p}/stat`, 'utf8')
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12]) // utime + stime
    } catch { /* exited meanwhile */ }
  }
  return ticks * (1_000_000 / USER_HZ)
}

/** Resident memory and open file descriptors of one process tree at one moment. */
export interface TreeMemory {
  /** Sum of VmRSS over the tree, KiB (shared pages count once per process). */
  rssKb: number
  /** Largest single process's VmRSS, KiB (the figure per worker). */
  maxProcessRssKb: number
  /** Open file descriptors over the tree. */
  fds: number
}

/** Returns RSS and open descriptors of `pid` and its descendants (see {@link TreeMemory}). */
export function processTreeMemory (pid: number): TreeMemory {
  const out: TreeMemory = { rssKb: 0, maxProcessRssKb: 0, fds: 0 }
  for (const p of processTree(pid)) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))
      const rss = Number(m?.[1] ?? 0)
      out.rssKb += rss
      out.maxProcessRssKb = Math.max(out.maxProcessRssKb, rss)
      out.fds += readdirSync(`/proc/${p}/fd`).length
    } catch { /* exited meanwhile */ }
  }
  return out
}
