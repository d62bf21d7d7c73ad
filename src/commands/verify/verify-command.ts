import { Option, type Command } from 'commander'
import { runVerify, type VerifyCommandOptions } from './verify-chain.ts'
import { STALE_CRL_POLICIES } from '../../enums.ts'

/** Registers `verify`. */
export function registerVerifyCommand (program: Command): void {
  const collect = (v: string, prev: string[]): string[] => [...prev, v]
  program.command('verify')
    .description('verify an X.509-SVID chain against per-trust-domain bundles: prints "accept <spiffe-id>" (exit 0) or one "reject: <rule>" line per broken rule (exit 1)')
    .argument('<chain>', 'certificate file, PEM (the leaf first, then intermediates) or DER (the leaf alone)')
    .option('--bundle <td=file>', 'trust anchors (PEM) of one trust domain, e.g. example.org=root.pem (repeatable)', collect, [] as string[])
    .option('--trust-config <file>', 'YAML/JSON: a serving config, spiffeTrustStores, trust_bundles.json or a SPIFFE bundle map (repeatable)', collect, [] as string[])
    .addOption(new Option('--role <role>', 'role of the peer that presented the chain').choices(['server', 'client']).default('server'))
    .option('--crl <file>', 'a CRL (PEM or DER) signed by a trusted CA or a presented intermediate (repeatable)', collect, [] as string[])
    .addOption(new Option('--stale-crl <policy>', 'a CRL past its nextUpdate: fail-closed rejects, fail-open accepts with a warning').choices(STALE_CRL_POLICIES).default('fail-closed'))
    .option('--now <iso>', 'verify at this time instead of now (ISO 8601)')
    .option('--json', 'print the verdict, and any error, as JSON')
    .action(async (chain: string, opts: Omit<VerifyCommandOptions, 'chain'>) => {
      process.exitCode = await runVerify({ chain, ...opts }, { stdout: process.stdout, stderr: process.stderr })
    })
}
