import { Command, CommanderError, Help } from 'commander'
import { isSpiffeLbError } from '../internal/errors.ts'
import { packageVersion } from '../internal/package-version.ts'
import { EXIT } from '../process/command-output.ts'
import { COMMANDS, type CommandContext } from './command-registry.ts'
import { addExamples, commandPath } from '../commands/help-examples.ts'
import { listenError } from '../runtime/listen-error.ts'
import { unexpectedError, usageError } from '../process/command-errors.ts'

/** Returns what `--version` prints: the spiffe-lb, Node.js and OpenSSL versions, one per line. */
export function versionText (): string {
  return `spiffe-lb ${packageVersion()}\nnode ${process.versions.node}\nopenssl ${process.versions.openssl}`
}

const plainHelp = new Help()

// Subcommands inherit these settings from the program when they are created.
function baseProgram (): Command {
  return new Command('spiffe-lb')
    .description('a data plane for SPIFFE workload identity: mTLS reverse proxy, local control plane and benchmarks')
    .version(versionText(), '-V, --version', 'print the spiffe-lb, Node.js and OpenSSL versions')
    .configureHelp({
      optionDescription: (option) => `${plainHelp.optionDescription(option)}${option.mandatory ? ' (required)' : ''}`
    })
    // A usage error is one line naming where to read more (runCli writes it), not the whole help.
    .showHelpAfterError(false)
    .configureOutput({ outputError: () => {} })
    .exitOverride()
}

const context: CommandContext = { fullProgram: async () => await buildProgram(null) }

/**
 * Returns the program for `argv`: the named command's module fully registered, the others as
 * summaries only (enough for `--help` and for "unknown command" errors); with `argv` null,
 * every command fully registered (the tree `completion` describes). Each command's help ends
 * with its examples.
 */
export async function buildProgram (argv: readonly string[] | null): Promise<Command> {
  const program = baseProgram()
  const words = (argv ?? []).filter((a) => !a.startsWith('-'))
  const first = words[0] === 'help' ? words[1] : words[0]
  for (const entry of COMMANDS) {
    if (argv === null || entry.name === first) (await entry.load())(program, context)
    else program.command(entry.name).description(entry.summary).allowUnknownOption().allowExcessArguments()
  }
  addExamples(program)
  return program
}

/** Returns the command `argv` addresses: the deepest subcommand named by its words (`help X` names X). */
function addressedCommand (program: Command, argv: readonly string[]): Command {
  let cmd = program
  for (const word of argv[0] === 'help' ? argv.slice(1) : argv) {
    if (word.startsWith('-')) continue
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word))
    if (sub === undefined) break
    cmd = sub
  }
  return cmd
}

/** Returns the first option in `argv` that `cmd` (and the program) does not know, if any. */
function firstUnknownOption (cmd: Command, argv: readonly string[]): string | undefined {
  const known = new Set<string>(['-h', '--help'])
  for (let c: Command | null = cmd; c !== null; c = c.parent) {
    for (const o of c.options) {
      if (o.long !== undefined) known.add(o.long)
      if (o.short !== undefined) known.add(o.short)
      if (o.negate && o.long !== undefined) known.add(o.long)
    }
  }
  for (const arg of argv) {
    if (arg === '--') break
    if (!arg.startsWith('-') || arg === '-') continue
    const flag = arg.startsWith('--') ? arg.split('=')[0] ?? arg : arg.slice(0, 2)
    if (!known.has(flag)) return flag
  }
  return undefined
}

/**
 * Writes an error as the user asked for it and returns `exit`: with `--json` on a command that
 * has it, `{"error":{"code","message"}}` on stdout (scripts read one stream); else one
 * `spiffe-lb: CODE: message` line on stderr.
 */
function reportError (cmd: Command, argv: readonly string[], code: string, message: string, exit: number): number {
  const json = cmd.options.some((o) => o.attributeName() === 'json') && (cmd.opts().json === true || argv.includes('--json'))
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`)
  else process.stderr.write(`spiffe-lb: ${code}: ${message}\n`)
  return exit
}

/** Runs the CLI with `argv` (without node and script) and returns the process exit code. */
export async function runCli (argv: readonly string[]): Promise<number> {
  const program = await buildProgram(argv)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK
  } catch (err) {
    const cmd = addressedCommand(program, argv)
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK
      // Help shown because no command was given (bare `spiffe-lb`, `spiffe-lb ca`) is a usage error.
      if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE
      const path = ['spiffe-lb', commandPath(cmd)].filter((p) => p !== '').join(' ')
      // Commander checks required options before unknown ones; a typo is the first thing to fix.
      const unknown = err.code === 'commander.missingMandatoryOptionValue' ? firstUnknownOption(cmd, argv) : undefined
      const message = unknown === undefined ? err.message.replace(/^error: /, '').replace(/\s+/g, ' ') : `unknown option '${unknown}'`
      const usage = usageError(`${message} (see ${path} --help)`, err)
      return reportError(cmd, argv, usage.code, usage.message, EXIT.USAGE)
    }
    const coded = listenError(err) ?? err
    if (isSpiffeLbError(coded)) {
      return reportError(cmd, argv, coded.code, `${coded.message}${coded.at === undefined ? '' : ` (at ${coded.at})`}`, EXIT.USAGE)
    }
    // An uncoded error is a bug or an environment failure: one line for the user, the stack
    // only on request.
    if (process.env.SPIFFE_LB_DEBUG !== undefined && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`)
    const unexpected = unexpectedError(err)
    return reportError(cmd, argv, unexpected.code, unexpected.message, EXIT.FAILED)
  }
}
