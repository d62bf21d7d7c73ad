import type { Command } from 'commander'
import { runDescribe } from './run-describe.ts'

/** Registers `describe` on the program. */
export function registerDescribeCommand (program: Command): void {
  program.command('describe')
    .description('print the resources of a config, derived ones included, as gcloud-style YAML')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .argument('[kind]', 'workload-identity-pools | backend-services | backend-authentication-configs | certificates | trust-configs (singular ok)')
    .argument('[name]', 'one resource: its ID (mi-bac-…, web) or full name')
    .action(async (kind: string | undefined, name: string | undefined, opts: { config: string }) => {
      process.exitCode = await runDescribe({ config: opts.config, kind, name }, { stdout: process.stdout, stderr: process.stderr })
    })
}
