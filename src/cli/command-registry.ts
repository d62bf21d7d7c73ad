import type { Command } from 'commander'

/** What the program offers a command module: the whole command tree, every command loaded (for `completion`). */
export interface CommandContext { fullProgram: () => Promise<Command> }

/** A command module adds its subcommands to the program. */
export type RegisterCommand = (program: Command, context: CommandContext) => void

/** One top-level command: its name and summary for `--help`, and a loader for the module. */
export interface CommandEntry {
  name: string
  summary: string
  load: () => Promise<RegisterCommand>
}

// Command modules are imported only when their command runs: the full set pulls in undici,
// pino, @peculiar/x509 and more, which would cost every invocation (and every test that spawns
// the CLI) about a second of start-up.
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'up', summary: 'run the embedded demo: CA, pool, trusted/partner/untrusted backends, proxy', load: async () => (await import('../commands/up/up-command.ts')).registerUpCommand },
  { name: 'serve', summary: 'run the proxy from a config file (--check only validates)', load: async () => (await import('../commands/serve/serve-command.ts')).registerServeCommand },
  { name: 'describe', summary: 'print the resources, derived ones included, as gcloud-style YAML', load: async () => (await import('../commands/describe/describe-command.ts')).registerDescribeCommand },
  { name: 'backend', summary: 'run an mTLS test backend that echoes the caller\'s SPIFFE ID', load: async () => (await import('../commands/backend/backend-command.ts')).registerBackendCommand },
  { name: 'ca', summary: 'create a local root or subordinate CA, or revoke a certificate', load: async () => (await import('../commands/ca/ca-command.ts')).registerCaCommand },
  { name: 'svid', summary: 'issue X.509-SVIDs into the GCE credential file layout', load: async () => (await import('../commands/svid/svid-command.ts')).registerSvidCommand },
  { name: 'inspect', summary: 'show certificates (PEM or DER) or a CRL, with SPIFFE ID, trust domain and time left', load: async () => (await import('../commands/inspect/inspect-command.ts')).registerInspectCommand },
  { name: 'verify', summary: 'verify an X.509-SVID chain against per-trust-domain bundles', load: async () => (await import('../commands/verify/verify-command.ts')).registerVerifyCommand },
  { name: 'probe', summary: 'judge a live backend as the proxy would, naming every broken rule', load: async () => (await import('../commands/probe/probe-command.ts')).registerProbeCommand },
  { name: 'metadata-server', summary: 'serve emulated GCE workload-certificate metadata endpoints', load: async () => (await import('../commands/metadata-server/metadata-server-command.ts')).registerMetadataServerCommand },
  { name: 'bundle-endpoint', summary: 'serve a pool\'s trust bundle as a SPIFFE bundle endpoint for federation', load: async () => (await import('../commands/bundle-endpoint/bundle-endpoint-command.ts')).registerBundleEndpointCommand },
  { name: 'workload-api', summary: 'serve one managed identity over the SPIFFE Workload API', load: async () => (await import('../commands/workload-api/workload-api-command.ts')).registerWorkloadApiCommand },
  { name: 'agent', summary: 'poll a metadata server and write the GCE credential file layout', load: async () => (await import('../commands/agent/agent-command.ts')).registerAgentCommand },
  { name: 'bench', summary: 'benchmark mTLS handshakes and the proxy against same-run baselines', load: async () => (await import('../commands/bench/bench-command.ts')).registerBenchCommand },
  { name: 'completion', summary: 'print a bash or zsh completion script', load: async () => (await import('../commands/completion/completion-command.ts')).registerCompletionCommand }
]
