import { Option, type Command } from 'commander'
import { runInspect } from '../server/inspect.ts'

/** Registers `inspect FILE`. */
export function registerInspectCommand (program: Command): void {
  program.command('inspect')
    .description('show the certificates of a PEM file, with SPIFFE ID, trust domain, validity and rotation time')
    .argument('<file>', 'PEM file with one or more certificates')
    .option('--json', 'print JSON instead of text')
    .addOption(new Option('--now <iso>', 'evaluate times at this instant (for tests)').hideHelp())
    .action(async (file: string, opts: { json?: boolean, now?: string }) => {
      process.exitCode = await runInspect({ file, ...opts }, { stdout: process.stdout, stderr: process.stderr })
    })
}
