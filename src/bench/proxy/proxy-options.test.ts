import t from 'tap'
import { isSpiffeLbError } from '../../internal/errors.ts'
import { parseProxyBenchFlags, resolveProxyBenchOptions } from './proxy-options.ts'
import type { ProxyBenchFlags } from './proxy-options.ts'

t.test('defaults, and the shorter ones of --quick', async (t) => {
  t.match(resolveProxyBenchOptions({ progressBar: false }), {
    modes: ['fresh', 'resumed', 'pooled'], connections: 16, durationMs: 5000, warmupMs: 1000, slices: 5, workers: [1],
    keyAlgorithm: 'ECDSA_P256', targetProxy: undefined, proxyPid: undefined, quick: false, progressBar: false
  })
  t.match(resolveProxyBenchOptions({ quick: true, progressBar: false }), { connections: 8, durationMs: 2000, warmupMs: 500, slices: 2, quick: true })
  t.match(resolveProxyBenchOptions({ quick: true, durationMs: 3000, connections: 2 }), { connections: 2, durationMs: 3000, slices: 3 }, 'explicit values win over --quick')
  t.same(resolveProxyBenchOptions({ modes: ['pooled', 'fresh'] }).modes, ['fresh', 'pooled'], 'modes run in report order')
})

t.test('flags are parsed into options', async (t) => {
  t.same(parseProxyBenchFlags({
    modes: 'fresh, pooled', connections: '4', duration: '1.5s', warmup: '200ms', slices: '3', workers: '1,2',
    keyAlgorithm: 'ec-p384-sha384', quick: true
  }), {
    modes: ['fresh', 'pooled'], connections: 4, durationMs: 1500, warmupMs: 200, slices: 3, workers: [1, 2],
    keyAlgorithm: 'ECDSA_P384', quick: true
  })
  t.same(parseProxyBenchFlags({ targetProxy: '[::1]:8080', proxyPid: '1234' }), { targetProxy: '[::1]:8080', proxyPid: 1234 })
  t.same(parseProxyBenchFlags({}), {}, 'nothing given: the defaults apply later')
  t.same(parseProxyBenchFlags({ protocol: 'h2, h1' }), { protocols: ['h2', 'h1'] })
  t.same(resolveProxyBenchOptions({ protocols: ['h2', 'h1'] }).protocols, ['h1', 'h2'], 'protocols run in report order')
  t.same(resolveProxyBenchOptions({}).protocols, ['h1'], 'HTTP/1.1 by default')
})

const bad: Array<[string, ProxyBenchFlags, string]> = [
  ['unknown mode', { modes: 'fresh,warm' }, '--modes'],
  ['empty modes', { modes: ',' }, '--modes'],
  ['zero connections', { connections: '0' }, '--connections'],
  ['connections not a number', { connections: 'many' }, '--connections'],
  ['duration without unit form', { duration: '5 seconds' }, '--duration'],
  ['duration too short', { duration: '10ms' }, '--duration'],
  ['warmup negative', { warmup: '-1s' }, '--warmup'],
  ['zero slices', { slices: '0' }, '--slices'],
  ['zero workers', { workers: '0' }, '--workers'],
  ['workers repeated', { workers: '2,2' }, '--workers'],
  ['workers not numbers', { workers: 'auto' }, '--workers'],
  ['unknown protocol', { protocol: 'h3' }, '--protocol'],
  ['empty protocol list', { protocol: ',' }, '--protocol'],
  ['h2 without the pooled mode', { protocol: 'h1,h2', modes: 'fresh,resumed' }, '--protocol'],
  ['unknown key algorithm', { keyAlgorithm: 'ED25519' }, '--key-algorithm'],
  ['target proxy without port', { targetProxy: 'localhost' }, '--target-proxy'],
  ['two worker counts with a target proxy', { targetProxy: '127.0.0.1:8080', workers: '1,2' }, '--workers'],
  ['proxy pid without a target proxy', { proxyPid: '42' }, '--proxy-pid']
]
for (const [name, flags, flag] of bad) {
  t.test(`refused: ${name}`, async (t) => {
    const err = (() => { try { parseProxyBenchFlags(flags); return undefined } catch (e) { return e } })()
    t.ok(isSpiffeLbError(err, 'ERR_SPIFFE_BENCH_BAD_OPTION'), String(err))
    t.match(err, { at: flag, message: new RegExp(`^${flag} `) })
  })
}

t.test('durations need a unit', async (t) => {
  t.equal(resolveProxyBenchOptions(parseProxyBenchFlags({ duration: '1.5s' })).durationMs, 1500)
  t.throws(() => parseProxyBenchFlags({ duration: '3' }), { code: 'ERR_SPIFFE_BENCH_BAD_OPTION', at: '--duration' })
})
