import type { Command } from 'commander'

// One place for the examples `--help` ends with, keyed by command path: a test checks that every
// command has one, so a new command comes with its example. Placeholders in angle brackets
// stand for the user's values, as in the option list.
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': ['spiffe-lb up', 'spiffe-lb serve -c config.yaml --check', 'spiffe-lb inspect certificates.pem'],
  up: ['spiffe-lb up --dir .spiffe-lb --port 8080 --admin-port 9901'],
  serve: ['spiffe-lb serve -c config.yaml --check', 'spiffe-lb serve -c config.yaml --workers auto'],
  describe: ['spiffe-lb describe -c config.yaml', 'spiffe-lb describe -c config.yaml backend-services web'],
  backend: ['spiffe-lb backend --credentials-dir /var/run/secrets/workload-spiffe-credentials --listen 127.0.0.1:9443',
    'spiffe-lb backend --cert svid.pem --key key.pem --bundle example.org=root.pem --listen 127.0.0.1:9443'],
  ca: ['spiffe-lb ca create-root --out certs/root --subject "CN=Demo Root CA, O=Demo"'],
  'ca create-root': ['spiffe-lb ca create-root --out certs/root --subject "CN=Demo Root CA, O=Demo" --max-chain-length 1'],
  'ca create-subordinate': ['spiffe-lb ca create-subordinate --parent certs/root --out certs/sub --subject "CN=Demo Sub CA"'],
  'ca revoke': ['spiffe-lb ca revoke --ca certs/root --cert certs/web/certificates.pem'],
  svid: ['spiffe-lb svid issue --ca certs/root --id spiffe://example.org/ns/web/sa/api --out certs/web'],
  'svid issue': ['spiffe-lb svid issue --ca certs/root --id spiffe://example.org/ns/web/sa/api --out certs/web --lifetime 3600s'],
  inspect: ['spiffe-lb inspect certs/web/certificates.pem', 'spiffe-lb inspect --json certificate.der', 'spiffe-lb inspect certs/root/crl.pem'],
  verify: ['spiffe-lb verify --bundle example.org=certs/root/ca.pem certs/web/certificates.pem',
    'spiffe-lb verify --trust-config config.yaml --crl certs/root/crl.pem --json chain.pem'],
  probe: ['spiffe-lb probe -c config.yaml --service partner 127.0.0.1:9543',
    'spiffe-lb probe --cert svid.pem --key key.pem --bundle partner.example=partner-root.pem 127.0.0.1:9543',
    'spiffe-lb probe --role client --cert svid.pem --key key.pem --bundle shop.example=shop-root.pem 127.0.0.1:8443'],
  'metadata-server': ['spiffe-lb metadata-server -c config.yaml --listen 127.0.0.1:8181 --lifetime 60s'],
  'workload-api': ['spiffe-lb workload-api -c config.yaml --listen unix:///run/spiffe-lb/agent.sock --identity //demo-pool.global.123456789012.workload.id.goog/ns/lb/sa/frontend'],
  'bundle-endpoint': ['spiffe-lb bundle-endpoint -c partner.yaml --cert endpoint-svid.pem --key endpoint-key.pem --listen 127.0.0.1:8443 --refresh-hint 60s'],
  agent: ['spiffe-lb agent --metadata http://127.0.0.1:8181 --out /var/run/secrets/workload-spiffe-credentials'],
  bench: ['spiffe-lb bench handshake --quick', 'spiffe-lb bench proxy --quick'],
  'bench handshake': ['spiffe-lb bench handshake --quick', 'spiffe-lb bench handshake --key-algorithms ECDSA_P256,RSA_3072 --duration 6s'],
  'bench proxy': ['spiffe-lb bench proxy --quick', 'spiffe-lb bench proxy --workers 1,2 --modes fresh'],
  'bench soak': ['spiffe-lb bench soak --quick'],
  completion: ['source <(spiffe-lb completion bash)        # bash, e.g. in ~/.bashrc',
    'spiffe-lb completion zsh > "${fpath[1]}/_spiffe-lb"   # zsh, then restart the shell']
}

/** Returns the path of `cmd` below the program: `''` for the program, `ca create-root` for a subcommand. */
export function commandPath (cmd: Command): string {
  const names: string[] = []
  for (let c: Command | null = cmd; c?.parent != null; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

/** Returns the examples of the command at `path`, or undefined when it has none. */
export function examplesOf (path: string): readonly string[] | undefined {
  return EXAMPLES[path]
}

/** Adds an "Examples:" section after the help of `cmd` and of every command below it that has examples. */
export function addExamples (cmd: Command): void {
  const lines = examplesOf(commandPath(cmd))
  if (lines !== undefined) cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`)
  for (const sub of cmd.commands) addExamples(sub)
}
