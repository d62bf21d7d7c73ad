import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { buildProgram } from '../src/cli/program.ts'
import { commandPath } from '../src/commands/help-examples.ts'

// The operator's first contact: --help of every command (examples, required options, one
// placeholder style), usage errors as one line, bare `spiffe-lb`, and the README's command table
// against the help. Driven through the CLI as a user runs it; the command tree is read in
// process only to know which commands and options exist.

// Many CLI processes, each a second or more of start-up on a shared, loaded machine: give the
// file more than the default 120 s (the runner is told; no assertion depends on time).
t.setTimeout(600_000)
const REPO = fileURLToPath(new URL('..', import.meta.url))

interface Run { code: number, stdout: string, stderr: string }
async function cli (...args: string[]): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', ...args], { cwd: REPO }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

const program = await buildProgram(null)
const all: Command[] = []
const collect = (c: Command): void => { all.push(c); c.commands.forEach(collect) }
collect(program)

/** Returns the help of `cmd` as `--help` prints it, examples included, rendered in process. */
function helpOf (cmd: Command): string {
  let text = ''
  cmd.configureOutput({ writeOut: (s) => { text += s } })
  cmd.outputHelp()
  return text
}

// Option placeholders: lowercase words in angle brackets, `-` or `:` or `=` between words.
const FLAGS = /^(-[a-zA-Z], )?--[a-z0-9]+(-[a-z0-9]+)*( <[a-z0-9]+([-:=][a-z0-9]+)*>)?$/
const ARGUMENT = /^[a-z0-9]+([-:=][a-z0-9]+)*$/

t.test('every command: --help ends with its examples and marks required options', async (t) => {
  // Through the CLI for a few commands (one process each: the machine is shared); the help
  // rendered in process is the same text, as the first checks show, and covers every command.
  for (const path of ['', 'serve', 'ca create-root', 'probe']) {
    const cmd = all.find((c) => commandPath(c) === path)
    if (cmd === undefined) throw new Error(`no command ${path}`)
    const run = await cli(...path.split(' ').filter((w) => w !== ''), '--help')
    t.equal(run.code, 0, run.stderr)
    // The program's own help lists the other commands by their short summaries (their modules
    // load only when they run), so there only the examples are compared.
    const same = path === '' ? (h: string): string => h.split('\nExamples:\n')[1] ?? '' : (h: string): string => h
    t.equal(same(run.stdout), same(helpOf(cmd)), `spiffe-lb ${path} --help is the help checked below`)
  }
  for (const cmd of all) {
    const path = commandPath(cmd)
    const help = helpOf(cmd)
    const examples = help.split('\nExamples:\n')[1] ?? ''
    t.match(examples, /^ {2}\$ \S/, `${path || 'spiffe-lb'} --help has examples`)
    for (const line of examples.split('\n').filter((l) => l.startsWith('  $ spiffe-lb'))) {
      const words = line.slice('  $ spiffe-lb '.length).split(' ')
      t.same(words.slice(0, path === '' ? 0 : path.split(' ').length), path === '' ? [] : path.split(' '), `an example of ${path} runs ${path}`)
    }
    for (const o of cmd.options.filter((o) => o.mandatory)) {
      t.match(help, new RegExp(`${o.flags.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\s\\S]*?\\(required\\)`), `${path} ${o.flags} is marked required`)
    }
    t.notMatch(help, /\bthe issue\b|\bfor tests\b|\bTODO\b|\bCIC\b/, `${path} --help has no internal wording`)
  }
})

t.test('one placeholder style: <lowercase-words> for every option and argument', async (t) => {
  for (const cmd of all) {
    for (const o of cmd.options) t.match(o.flags, FLAGS, `${commandPath(cmd)} ${o.flags}`)
    for (const a of cmd.registeredArguments) t.match(a.name(), ARGUMENT, `${commandPath(cmd)} <${a.name()}>`)
  }
})

t.test('bare spiffe-lb and a group without its subcommand print help to stderr and exit 2', async (t) => {
  for (const args of [[], ['ca'], ['bench']]) {
    const r = await cli(...args)
    t.equal(r.code, 2, args.join(' '))
    t.equal(r.stdout, '')
    t.match(r.stderr, new RegExp(`^Usage: spiffe-lb${args.length === 0 ? '' : ` ${args.join(' ')}`} \\[options\\] \\[command\\]`))
  }
})

t.test('a usage error is one coded line naming the --help to read, not the whole help', async (t) => {
  const cases: Array<[string[], string]> = [
    [['serve', '--bogus', '-c', 'x.yaml'], "unknown option '--bogus' (see spiffe-lb serve --help)"],
    [['serve'], "required option '-c, --config <file>' not specified (see spiffe-lb serve --help)"],
    [['ca', 'create-root'], "required option '--out <dir>' not specified (see spiffe-lb ca create-root --help)"],
    [['inspect'], "missing required argument 'file' (see spiffe-lb inspect --help)"],
    [['verify', '--role', 'peer', 'x.pem'], "option '--role <role>' argument 'peer' is invalid. Allowed choices are server, client. (see spiffe-lb verify --help)"],
    [['nope'], "unknown command 'nope' (see spiffe-lb --help)"]
  ]
  for (const [args, message] of cases) {
    const r = await cli(...args)
    t.equal(r.code, 2, args.join(' '))
    t.equal(r.stdout, '')
    t.equal(r.stderr, `spiffe-lb: ERR_SPIFFE_CLI_USAGE: ${message}\n`, args.join(' '))
  }
})

t.test('the README command table lists every command of --help, with options that exist', async (t) => {
  const help = await cli('--help')
  t.equal(help.code, 0)
  const listed = [...(help.stdout.split('\nCommands:\n')[1] ?? '').matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1] ?? '').filter((n) => n !== 'help')
  t.same(listed, program.commands.map((c) => c.name()), '--help lists the registered commands')
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const table = readme.slice(readme.indexOf('| command | does |'))
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2)
  const cells = rows.flatMap((row) => [...(/^\| (.*?) \| /.exec(row)?.[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ''))
  for (const name of listed) t.ok(cells.some((c) => c.split(' ')[0] === name), `README's table has ${name}`)
  for (const cell of cells) {
    // The command a cell names is its leading words that are (sub)commands.
    let cmd = program
    for (const word of cell.split(' ')) {
      const sub = cmd.commands.find((c) => c.name() === word)
      if (sub === undefined) break
      cmd = sub
    }
    t.not(cmd, program, `${cell}: names a command`)
    for (const flag of cell.match(/(?<![\w-])--?[a-z][a-z-]*/g) ?? []) {
      t.ok(cmd.options.some((o) => o.long === flag || o.short === flag), `${cell}: ${commandPath(cmd)} has ${flag}`)
    }
    for (const m of cell.matchAll(/(--?[a-z][a-z-]*) (<[^>]+>)/g)) {
      const option = cmd.options.find((o) => o.long === m[1] || o.short === m[1])
      t.match(option?.flags ?? '', ` ${m[2] ?? ''}`, `${cell}: ${m[1] ?? ''} takes ${m[2] ?? ''} as in --help`)
    }
  }
})
