import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BACKEND_PROTOCOLS, BUNDLE_ENDPOINT_PROFILES, CREDENTIAL_SOURCES, LB_POLICIES, STALE_CRL_POLICIES } from '../src/enums.ts'
import { applyAllowances, findLongFile, findOwnerViolations, type Allowance, type Finding, type RuleName } from './owner-rules.ts'

// docs/architecture.md#formats-and-defaults: each fact has one owner. This test reads src/ and
// fails when a fact is written a second time outside its owner; the few places where the same
// shape of code is not a second owner are listed below, each with its reason.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')
const ENUMS = [LB_POLICIES, BACKEND_PROTOCOLS, CREDENTIAL_SOURCES, BUNDLE_ENDPOINT_PROFILES, STALE_CRL_POLICIES]

/** The owner of each fact: findings in these files are the definition, not a copy. */
const OWNERS: Record<Exclude<RuleName, 'long-file'>, readonly string[]> = {
  'literal-default': ['defaults.ts', 'config/schema.ts', 'bench/handshake/handshake-options.ts', 'bench/proxy/proxy-options.ts', 'bench/soak/soak-options.ts'],
  'time-unit': ['defaults.ts'],
  'host-port': ['internal/host-port.ts'],
  'uncoded-throw': [],
  lru: ['internal/lru.ts'],
  'enum-values': ['enums.ts']
}

/** Findings that are not a second owner, each with why. Keep it short: an entry nothing matches fails the test. */
const ALLOWED: readonly Allowance[] = [
  { rule: 'literal-default', file: 'internal/errors.ts', code: 'max = 120', why: 'how much of a value an error message quotes: part of the message format, not a setting' },
  { rule: 'literal-default', file: 'bench/report/report-terminal.ts', code: 'maxMet = 12', why: 'how many met targets a terminal report lists: page layout, not a setting' },
  { rule: 'literal-default', file: 'tls/credential-changes.ts', code: 'MAX_TIMER_MS', why: 'the largest delay setTimeout accepts: a platform limit, not a setting' }
]

function * files (dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield * files(p)
    else if (p.endsWith('.ts')) yield relative(src, p)
  }
}

/** Unit tests and their fixtures (the files tsconfig.build.json leaves out) pick their own values. */
const isTestSupport = (rel: string): boolean => rel.endsWith('.test.ts') || rel.split('/').includes('testing') ||
  rel.endsWith('/test-support.ts') || rel.endsWith('/source-suite.ts')

const all = [...files(src)]
const texts = new Map(all.map((f) => [f, readFileSync(join(src, f), 'utf8')]))
const show = (f: Finding): string => `src/${f.file}:${f.line} ${f.rule}: ${f.text}`

t.test('each fact is written once, by its owner', async (t) => {
  t.ok(all.length > 200, `${all.length} files`)
  const findings = all.filter((f) => !isTestSupport(f)).flatMap((f) => findOwnerViolations(f, texts.get(f) ?? '', ENUMS))
    .filter((f) => f.rule === 'long-file' || !OWNERS[f.rule].includes(f.file))
  const { left, unused } = applyAllowances(findings, ALLOWED)
  t.same(left.map(show), [], 'move the value to its owner (docs/architecture.md#formats-and-defaults), or allow it below with a reason')
  t.same(unused, [], 'allowances nothing matches any more: remove them')
})

t.test('a time unit is named once, in src/defaults.ts, fixtures included', async (t) => {
  const units = all.filter((f) => !f.endsWith('.test.ts') && f !== 'defaults.ts')
    .flatMap((f) => findOwnerViolations(f, texts.get(f) ?? '', []).filter((x) => x.rule === 'time-unit'))
  t.same(applyAllowances(units, ALLOWED).left.map(show), [])
})

t.test('no file in src/ is over 250 lines without a sentence at its top saying why', async (t) => {
  t.same(all.flatMap((f) => findLongFile(f, texts.get(f) ?? '')).map(show), [])
})

t.test('each rule fails on a tiny example and passes its fix', async (t) => {
  const rules = (text: string, enums: ReadonlyArray<readonly string[]> = ENUMS): string[] =>
    findOwnerViolations('x.ts', text, enums).map((f) => f.rule)
  t.same(rules('export function watch (debounceMs = 200) {}'), ['literal-default'])
  t.same(rules('const d = options.debounceMs ?? 200'), ['literal-default'])
  t.same(rules('const { max = 256 } = options'), ['literal-default'])
  t.same(rules('z.number().default(30)'), ['literal-default'])
  t.same(rules('const status = res.statusCode ?? 502'), [])
  t.same(rules('const d = options.debounceMs ?? CONFIG_DEBOUNCE_MS; function f (offset = 0, n = -1) {}; const c = (m.get(k) ?? 0) + 1'), [])
  t.same(rules('const PROBE_TIMEOUT_MS = 15_000'), ['literal-default'])
  t.same(rules('const RETRY_MS = 10 * SECOND_MS'), ['literal-default'])
  t.same(rules('const UNIT_MS = { ms: 1, s: SECOND_MS }; const WAIT_MS = options.waitMs; const MAX_BYTES = 4096'), [])
  t.same(rules('const DAY_MS = 86_400_000'), ['time-unit', 'time-unit'])
  t.same(rules('const HOUR = 60 * 60 * 1000'), ['time-unit'])
  t.same(rules('const lifetimeMs = 3_600_000'), ['time-unit'])
  t.same(rules('const lifetimeMs = HOUR_MS; const kib = 1024'), [])
  t.same(rules('const a = `${host}:${port}`'), ['host-port'])
  t.same(rules('const a = `[${host}]:${port}`'), ['host-port'])
  t.same(rules('const u = `http://${opts.host}:${addr.port}/`'), ['host-port'])
  t.same(rules("const a = host + ':' + port"), ['host-port'])
  t.same(rules('const y = `"127.0.0.1:${ports.get(name)}"`; const z = `${h}:${c.listenPort}`'), ['host-port', 'host-port'])
  t.same(rules('const x = `${kind}:${report}`'), [])
  t.same(rules('const a = formatHostPort(host, port); const g = `${n.type}:${n.value}`; const s = `ipv6:${formatHostPort(h, p)}`'), [])
  t.same(rules("throw new Error('no certificate')"), ['uncoded-throw'])
  t.same(rules("throw new TypeError('not a uuid')"), ['uncoded-throw'])
  t.same(rules("throw configError('ERR_SPIFFE_CONFIG_DERIVE_INPUT', 'no certificate'); abort.abort(new Error('timed out'))"), [])
  t.same(rules('const oldest = this.#map.keys().next()'), ['lru'])
  t.same(rules('const first = this.#map.values().next()'), [])
  t.same(rules("type P = 'HTTP' | 'HTTPS' | 'HTTP2'"), ['enum-values'])
  t.same(rules("new Option('--stale-crl <policy>').choices(['fail-closed', 'fail-open'])"), ['enum-values'])
  t.same(rules("type P = 'HTTPS' | 'other'; const xs = ['HTTPS']"), [])
})

t.test('an allowance covers its own rule and file only, and an unused one is reported', async (t) => {
  const f: Finding = { rule: 'lru', file: 'a.ts', line: 3, text: 'this.#m.keys().next' }
  const a: Allowance = { rule: 'lru', file: 'a.ts', code: '#m.keys', why: 'example' }
  t.same(applyAllowances([f], [a]), { left: [], unused: [] })
  t.same(applyAllowances([f], [{ ...a, file: 'b.ts' }]).left, [f])
  t.same(applyAllowances([], [a]).unused, [a])
})

t.test('the long-file rule counts lines and reads the first comment', async (t) => {
  const body = 'const a = 1\n'.repeat(251)
  t.same(findLongFile('x.ts', body).map((f) => f.rule), ['long-file'])
  t.same(findLongFile('x.ts', `/**\n * Over 250 lines: one state machine, split it and its invariants spread over files.\n */\n${body}`), [])
  t.same(findLongFile('x.ts', `// a helper\n${body}// over 250 lines: too late, not at the top\n`).map((f) => f.rule), ['long-file'])
  t.same(findLongFile('x.ts', 'const a = 1\n'.repeat(250)), [])
})
