import t from 'tap'
import { mergeWorkerServices, type WorkerAnswer } from './cluster-status.ts'
import { readiness, type ServiceHealth } from './status.ts'

const expected = [{ name: 'web', policy: 'ROUND_ROBIN', endpoints: ['127.0.0.1:1', '127.0.0.1:2'] }]
const view = (healthy1: boolean, healthy2: boolean, inFlight = 1): ServiceHealth[] => [{
  name: 'web',
  endpoints: [
    { endpoint: '127.0.0.1:1', healthy: healthy1, inFlight, ...(healthy1 ? {} : { reason: 'ECONNREFUSED' }) },
    { endpoint: '127.0.0.1:2', healthy: healthy2, inFlight }
  ]
}]

const cases: Array<{ name: string, answers: WorkerAnswer[], healthy: [boolean, boolean], reason1?: RegExp, ready: boolean }> = [
  { name: 'every worker healthy', answers: [{ worker: '1', services: view(true, true) }, { worker: '2', services: view(true, true) }], healthy: [true, true], ready: true },
  { name: 'one worker ejected an endpoint', answers: [{ worker: '1', services: view(true, true) }, { worker: '2', services: view(false, true) }], healthy: [false, true], reason1: /^worker 2: ECONNREFUSED$/, ready: true },
  { name: 'a worker did not answer', answers: [{ worker: '1', services: view(true, true) }, { worker: '2', error: 'no answer within 1000 ms' }], healthy: [false, false], reason1: /^worker 2: no answer within 1000 ms$/, ready: false },
  { name: 'a worker does not know the service yet', answers: [{ worker: '1', services: view(true, true) }, { worker: '2', services: [] }], healthy: [false, false], reason1: /does not route to it/, ready: false },
  { name: 'no worker', answers: [], healthy: [false, false], reason1: /no worker is running/, ready: false }
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const merged = mergeWorkerServices(expected, c.answers)
    t.same(merged.map((s) => s.name), ['web'])
    t.equal(merged[0]?.policy, 'ROUND_ROBIN')
    t.same(merged[0]?.endpoints.map((e) => e.healthy), c.healthy)
    if (c.reason1 !== undefined) t.match(merged[0]?.endpoints[0]?.reason, c.reason1)
    else t.equal(merged[0]?.endpoints[0]?.reason, undefined)
    const answered = c.answers.filter((a) => 'services' in a && a.services.length > 0).length
    t.equal(merged[0]?.endpoints[1]?.inFlight, answered, 'in-flight summed over the workers that answered')
    const r = readiness({ identity: () => ({ spiffeId: 'spiffe://td/x', notBefore: 0, notAfter: Date.now() + 60_000 }), trustDomains: () => [], services: () => merged }, Date.now())
    t.equal(r.ready, c.ready, r.reasons.join('; '))
  })
}
