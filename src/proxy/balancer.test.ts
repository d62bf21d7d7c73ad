import t from 'tap'
import { createBalancer, type Balancer } from './balancer.ts'
import { LB_POLICIES, type LbPolicy } from '../enums.ts'

/** A seeded generator (mulberry32) so statistical assertions are reproducible. */
function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

interface Ep { name: string, inFlight: number, healthy: boolean }
const endpoints = (n: number): Ep[] =>
  Array.from({ length: n }, (_, i) => ({ name: `e${i}`, inFlight: 0, healthy: true }))

function counts (b: Balancer, eps: readonly Ep[], rounds: number): Map<string, number> {
  const c = new Map<string, number>()
  for (let i = 0; i < rounds; i++) {
    const e = b.pick(eps)
    if (e !== undefined) c.set(e.name, (c.get(e.name) ?? 0) + 1)
  }
  return c
}

// One suite, every policy: the contract all balancers share.
for (const policy of LB_POLICIES) {
  t.test(`${policy} balancer`, async (t) => {
    const make = (): Balancer => createBalancer(policy, seeded(42))

    t.test('empty list picks nothing', async (t) => {
      t.equal(make().pick([]), undefined)
    })

    t.test('a single endpoint is always picked', async (t) => {
      const b = make()
      const [only] = endpoints(1)
      for (let i = 0; i < 10; i++) t.equal(b.pick([only!]), only)
    })

    t.test('only endpoints from the healthy list are picked', async (t) => {
      const b = make()
      const all = endpoints(6)
      all[1]!.healthy = false
      all[4]!.healthy = false
      let healthy = all.filter((e) => e.healthy)
      const picked = Array.from({ length: 300 }, () => b.pick(healthy))
      t.same(picked.filter((e) => e?.healthy !== true), [], 'every pick is a healthy endpoint')
      all[0]!.healthy = false
      healthy = all.filter((e) => e.healthy)
      t.notOk(counts(b, healthy, 200).has('e0'), 'an endpoint ejected mid-way is no longer picked')
    })

    t.test('spreads evenly over equally loaded endpoints', async (t) => {
      const eps = endpoints(4)
      const c = counts(make(), eps, 4000)
      t.equal(c.size, 4, 'every endpoint is used')
      for (const e of eps) {
        const share = (c.get(e.name) ?? 0) / 4000
        t.ok(share > 0.2 && share < 0.3, `${e.name} got ${share}`)
      }
    })
  })
}

t.test('ROUND_ROBIN cycles in order', async (t) => {
  const eps = endpoints(3)
  const b = createBalancer('ROUND_ROBIN')
  t.same(Array.from({ length: 7 }, () => b.pick(eps)?.name), ['e0', 'e1', 'e2', 'e0', 'e1', 'e2', 'e0'])
})

t.test('LEAST_REQUEST prefers endpoints with fewer requests in flight', async (t) => {
  const eps = endpoints(3)
  eps[0]!.inFlight = 50
  eps[1]!.inFlight = 1
  eps[2]!.inFlight = 0
  const c = counts(createBalancer('LEAST_REQUEST', seeded(7)), eps, 3000)
  t.notOk(c.has('e0'), 'the most loaded endpoint is never picked')
  t.ok((c.get('e2') ?? 0) > (c.get('e1') ?? 0) * 1.5, `idle endpoint favoured: ${JSON.stringify([...c])}`)
  const two = endpoints(2)
  two[0]!.inFlight = 3
  t.same(counts(createBalancer('LEAST_REQUEST', seeded(1)), two, 100), new Map([['e1', 100]]))
})

t.test('unknown policies are refused', async (t) => {
  t.throws(() => createBalancer('MAGLEV' as LbPolicy), { code: 'ERR_SPIFFE_PROXY_UNKNOWN_POLICY' })
})
