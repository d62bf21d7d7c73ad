import t from 'tap'
import { DATA_PLANE_V8_FLAGS } from '../defaults.ts'
import { restartArgv, v8FlagsFor, type ProcessFacts } from './v8-flags.ts'

const base: ProcessFacts = { argv: ['/n/node', '/p/main.js', 'serve', '-c', 'c.yaml'], execArgv: [], nodeOptions: undefined, ipc: false }

t.test('the data-plane commands start over with their V8 flags, once', async (t) => {
  t.same(v8FlagsFor('serve'), DATA_PLANE_V8_FLAGS)
  t.same(v8FlagsFor('up'), DATA_PLANE_V8_FLAGS)
  t.same(v8FlagsFor('inspect'), [])
  t.same(v8FlagsFor(undefined), [])
  const argv = restartArgv({ ...base, execArgv: ['--enable-source-maps'] })
  t.same(argv, ['/n/node', ...DATA_PLANE_V8_FLAGS, '--enable-source-maps', '/p/main.js', 'serve', '-c', 'c.yaml'])
  t.equal(restartArgv({ ...base, argv: argv ?? [], execArgv: (argv ?? []).slice(1, -4) }), undefined, 'the new image does not start over again')
})

t.test('a process runs as it is when it must or when the operator chose', async (t) => {
  const semi = DATA_PLANE_V8_FLAGS[0]?.split('=')[0] ?? ''
  const cases: Array<[string, Partial<ProcessFacts>]> = [
    ['another command', { argv: ['/n/node', '/p/main.js', 'inspect', 'x.pem'] }],
    ['no command', { argv: ['/n/node', '/p/main.js'] }],
    ['an IPC child (its parent passes the flags)', { ipc: true }],
    ['a flag on the command line', { execArgv: [`${semi}=32`] }],
    ['a flag in NODE_OPTIONS', { nodeOptions: `--no-warnings ${semi}=32` }],
    ['a quoted flag in NODE_OPTIONS', { nodeOptions: `"${semi}=32" "--import=file:///a b/x.mjs"` }]
  ]
  for (const [name, facts] of cases) t.equal(restartArgv({ ...base, ...facts }), undefined, name)
})
