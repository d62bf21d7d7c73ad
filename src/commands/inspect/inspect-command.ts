import { Option, type Command } from 'commander'
import { runInspect } from './inspect.ts'

/** Registers `inspect FILE`. */
export function registerInspectCommand (program: Command): void {
  program.command('inspect')
    .description('show the certificates of a PEM or DER file (or a CRL), with SPIFFE ID, trust domain, validity and rotation time; exit 1 when one is expired')
    .argument('<file>', 'certificate file: PEM (one or more certificates, or a CRL) or DER (one certificate or a CRL), told apart by content')
    .option('--json', 'print JSON instead of text, errors included')
    .option('--allow-expired', 'exit 0 even when a certificate is expired or a CRL is past its nextUpdate')
    .addOption(new Option('--now <iso>', 'evaluate times at this instant (for tests)').hideHelp())
    .action(async (file: string, opts: { json?: boolean, now?: string, allowExpired?: boolean }) => {
      process.exitCode = await runInspect({ file, ...opts }, { stdout: process.stdout, stderr: process.stderr })
    })
}
