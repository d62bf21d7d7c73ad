import { Option, type Command } from 'commander'
import { runVerify, type VerifyCommandOptions } from '../server/verify-chain.ts'

/** Registers `verify`. */
export function registerVerifyCommand (program: Command): void {
  const collect = (v: string, prev: string[]): string[] => [...prev, v]
  program.command('verify')
    .description('verify an X.509-SVID chain against per-trust-domain bundles: accept <id> (exit 0) or reject: <rule> (exit 1)')
    .argument('<chain>', 'PEM file: the leaf first, then intermediates')
    .option('--bundle <td=pem>', 'trust anchors of one trust domain: TRUST_DOMAIN=PEM_FILE (repeatable)', collect, [] as string[])
    .option('--trust-config <file>', 'YAML/JSON: a serving config, spiffeTrustStores, trust_bundles.json or a SPIFFE bundle map (repeatable)', collect, [] as string[])
    .addOption(new Option('--role <role>', 'role of the peer that presented the chain').choices(['server', 'client']).default('server'))
    .option('--crl <file>', 'a CRL (PEM or DER) signed by a trusted CA or a presented intermediate (repeatable)', collect, [] as string[])
    .addOption(new Option('--stale-crl <policy>', 'a CRL past its nextUpdate: closed rejects, open accepts with a warning').choices(['closed', 'open']).default('closed'))
    .option('--now <iso>', 'verify at this time instead of now (ISO 8601)')
    .action(async (chain: string, opts: Omit<VerifyCommandOptions, 'chain'>) => {
      process.exitCode = await runVerify({ chain, ...opts }, { stdout: process.stdout, stderr: process.stderr })
    })
}
