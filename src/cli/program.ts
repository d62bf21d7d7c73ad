import { Command, CommanderError } from 'commander'
import { isSpiffeLbError } from '../internal/errors.ts'
import { packageVersion } from '../internal/package-version.ts'
import { EXIT } from '../server/command-output.ts'
import { COMMANDS } from './commands.ts'
import { listenError } from '../server/listen-error.ts'

/** Returns what `--version` prints: the spiffe-lb, Node.js and OpenSSL versions, one per line. */
export function versionText (): string {
  return `spiffe-lb ${packageVersion()}\nnode ${process.versions.node}\nopenssl ${process.versions.openssl}`
}

function baseProgram (): Command {
  return new Command('spiffe-lb')
    .description('a data plane for SPIFFE workload identity: mTLS reverse proxy, local control plane and benchmarks')
    .version(versionText(), '-V, --version', 'print the spiffe-lb, Node.js and OpenSSL versions')
    .showHelpAfterError()
    .exitOverride()
}

/**
 * Returns the program for `argv`: the named command's module fully registered, the others as
 * summaries only (enough for `--help` and for "unknown command" errors).
 */
export async function buildProgram (argv: readonly string[]): Promise<Command> {
  const program = baseProgram()
  const words = argv.filter((a) => !a.startsWith('-'))
  const first = words[0] === 'help' ? words[1] : words[0]
  for (const entry of COMMANDS) {
    if (entry.name === first) (await entry.load())(program)
    else program.command(entry.name).description(entry.summary).allowUnknownOption().allowExcessArguments()
  }
  return program
}

/** Runs the CLI with `argv` (without node and script) and returns the process exit code. */
export async function runCli (argv: readonly string[]): Promise<number> {
  const program = await buildProgram(argv)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ||
          err.code === 'commander.help') return EXIT.OK
      return EXIT.USAGE
    }
    const coded = listenError(err) ?? err
    if (isSpiffeLbError(coded)) {
      const err = coded
      process.stderr.write(`spiffe-lb: ${err.code}: ${err.message}${err.at === undefined ? '' : ` (at ${err.at})`}\n`)
      return EXIT.USAGE
    }
    // An uncoded error is a bug or an environment failure: one line for the user, the stack
    // only on request.
    const code = (err as { code?: unknown } | null)?.code
    process.stderr.write(`spiffe-lb: unexpected error: ${err instanceof Error ? err.message.replace(/\s+/g, ' ') : String(err)}${typeof code === 'string' ? ` (${code})` : ''}\n`)
    if (process.env.SPIFFE_LB_DEBUG !== undefined && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`)
    return EXIT.FAILED
  }
}
