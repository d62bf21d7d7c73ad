import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findImports, packageOf } from './import-graph.ts'

// What a serving process loads is resident memory it pays for under load: `serve` with the
// directory source must not load the code of the sources, the control plane or the cluster it
// does not run. Those are imported with `await import()` where the config selects them; this
// test follows only the static imports from the `serve` command and checks they stay out.

const src = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'src')

/** Returns the files and packages reached from `entry` (relative to src/) through static imports only. */
function staticClosure (entry: string): { files: Set<string>, packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const todo = [entry]
  for (let rel = todo.pop(); rel !== undefined; rel = todo.pop()) {
    if (files.has(rel)) continue
    files.add(rel)
    for (const { spec, kind } of findImports(readFileSync(join(src, rel), 'utf8'))) {
      if (kind !== 'static') continue
      if (spec.startsWith('.')) todo.push(relative(src, resolve(dirname(join(src, rel)), spec)))
      else packages.add(packageOf(spec))
    }
  }
  return { files, packages }
}

t.test('serve loads statically neither gRPC nor the sources, control plane or cluster it may not use', async (t) => {
  const { files, packages } = staticClosure('commands/serve/serve-command.ts')
  t.ok(files.has('proxy/proxy.ts') && files.has('tls/backend-connector.ts'), 'the walk reaches the proxy and the connector')
  for (const pkg of ['@grpc/grpc-js', '@grpc/proto-loader', 'autocannon', 'ws', 'grpc-health-check', 'pino-pretty']) {
    t.notOk(packages.has(pkg), `${pkg} is not in serve's static graph`)
  }
  for (const file of ['credentials/workload-api-source.ts', 'credentials/issuer-source.ts', 'credentials/metadata-source.ts',
    'credentials/directory-source.ts', 'control/pool-issuance.ts', 'runtime/cluster-primary.ts', 'config/describe.ts', 'config/derived.ts',
    'credentials/revocation-feed.ts']) {
    t.notOk(files.has(file), `${file} is loaded only when used`)
  }
  t.notOk([...files].some((f) => f.startsWith('bench/') || f.startsWith('control/')), 'no bench or control-plane file')
})
