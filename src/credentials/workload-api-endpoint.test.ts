import t from 'tap'
import { parseWorkloadApiEndpoint, resolveWorkloadApiEndpoint } from './workload-api-endpoint.ts'

t.test('accepted endpoints and the grpc-js target of each', async (t) => {
  const cases: Array<[string, string]> = [
    ['unix:///run/spire/sockets/agent.sock', 'unix:///run/spire/sockets/agent.sock'],
    ['unix:/run/agent.sock', ''],
    ['tcp://127.0.0.1:8081', 'ipv4:127.0.0.1:8081'],
    ['tcp://[::1]:8081', 'ipv6:[::1]:8081']
  ]
  for (const [address, target] of cases) {
    if (target === '') { t.throws(() => parseWorkloadApiEndpoint(address, 'e'), { code: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_ENDPOINT' }, address); continue }
    t.equal(parseWorkloadApiEndpoint(address, 'e').target, target, address)
  }
})

t.test('refused endpoints name the rule', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['unix://relative/agent.sock', /absolute/],
    ['unix:///', /absolute/],
    ['tcp://localhost:8081', /not an ip address/],
    ['tcp://127.0.0.1', /no port/],
    ['tcp://127.0.0.1:81/path', /path/],
    ['tcp://user@127.0.0.1:81', /userinfo/],
    ['unix:///a.sock?x=1', /query/],
    ['http://127.0.0.1:80', /scheme "http"/],
    ['/run/agent.sock', /not a url/]
  ]
  for (const [address, rule] of cases) {
    t.throws(() => parseWorkloadApiEndpoint(address, 'credentials.endpoint'),
      { code: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_ENDPOINT', message: rule, at: 'credentials.endpoint' }, address)
  }
})

t.test('the configured endpoint wins over SPIFFE_ENDPOINT_SOCKET; neither is an error', async (t) => {
  const env = { SPIFFE_ENDPOINT_SOCKET: 'unix:///env.sock' }
  t.equal(resolveWorkloadApiEndpoint('unix:///conf.sock', 'credentials.endpoint', env).target, 'unix:///conf.sock')
  t.equal(resolveWorkloadApiEndpoint(undefined, 'credentials.endpoint', env).target, 'unix:///env.sock')
  t.throws(() => resolveWorkloadApiEndpoint(undefined, 'credentials.endpoint', {}), { code: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_ENDPOINT' })
  t.throws(() => resolveWorkloadApiEndpoint(undefined, 'x', { SPIFFE_ENDPOINT_SOCKET: 'unix://rel' }), { code: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_ENDPOINT', at: 'SPIFFE_ENDPOINT_SOCKET' })
})
