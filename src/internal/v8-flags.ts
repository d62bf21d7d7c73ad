import { DATA_PLANE_V8_FLAGS } from '../defaults.ts'

/** Commands that run as a long-lived data plane, and so with {@link DATA_PLANE_V8_FLAGS}. */
const DATA_PLANE_COMMANDS: ReadonlySet<string> = new Set(['serve', 'up'])

/** Returns the V8 flags `command` runs with: {@link DATA_PLANE_V8_FLAGS} for the data plane, else none. */
export function v8FlagsFor (command: string | undefined): readonly string[] {
  return command !== undefined && DATA_PLANE_COMMANDS.has(command) ? DATA_PLANE_V8_FLAGS : []
}

/** What decides whether the running process must start over with its V8 flags. */
export interface ProcessFacts {
  /** `process.argv`: the Node binary, the script, then the command and its arguments. */
  argv: readonly string[]
  /** `process.execArgv`: the Node options on the command line. */
  execArgv: readonly string[]
  /** `NODE_OPTIONS`. */
  nodeOptions: string | undefined
  /** True when a parent talks to this process over IPC: a new image would lose the channel. */
  ipc: boolean
}

/**
 * Returns the words of `NODE_OPTIONS`: split at spaces, a double-quoted word taken whole and
 * unquoted, as Node itself reads it (https://nodejs.org/api/cli.html#node_optionsoptions).
 */
function nodeOptionWords (options: string): string[] {
  return [...options.matchAll(/"((?:\\.|[^"\\])*)"|(\S+)/g)].map((m) => m[2] ?? (m[1] ?? '').replace(/\\(.)/g, '$1'))
}

/**
 * Returns the argv to replace the process with (`process.execve`) so that a data-plane command
 * runs with its V8 flags, or undefined when it runs as it is: another command; an IPC child
 * (whoever spawns it passes the flags, as `bench` does); or any of the flags already set, by an
 * operator who chose other values or by the start-over itself, which so never loops.
 */
export function restartArgv (facts: ProcessFacts): string[] | undefined {
  const [node, script, command] = facts.argv
  const flags = v8FlagsFor(command)
  if (flags.length === 0 || facts.ipc || node === undefined || script === undefined) return undefined
  const given = [...facts.execArgv, ...nodeOptionWords(facts.nodeOptions ?? '')]
  const names = flags.map((f) => f.split('=')[0] ?? f)
  if (given.some((g) => names.includes(g.split('=')[0] ?? g))) return undefined
  return [node, ...flags, ...facts.execArgv, ...facts.argv.slice(1)]
}
