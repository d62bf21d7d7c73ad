import t from 'tap'
import { compileUrlMap, normalizeHost } from './router.ts'
import type { UrlMapOptions } from './types.ts'

const services = new Set(['web', 'api', 'api-v1', 'api-v1-users', 'wild', 'deep', 'any', 'login', 'root'])

const urlMap: UrlMapOptions = {
  defaultService: 'web',
  hostRules: [
    { hosts: ['api.example.test', 'API2.example.test'], pathMatcher: 'api' },
    { hosts: ['*.example.com'], pathMatcher: 'wild' },
    { hosts: ['*.deep.example.com'], pathMatcher: 'deep' },
    { hosts: ['*'], pathMatcher: 'any' }
  ],
  pathMatchers: [
    {
      name: 'api',
      defaultService: 'api',
      pathRules: [
        { paths: ['/v1/*'], service: 'api-v1' },
        { paths: ['/v1/users/*', '/v1/users'], service: 'api-v1-users' },
        { paths: ['/login', '/v1/'], service: 'login' },
        { paths: ['/*'], service: 'root' }
      ]
    },
    { name: 'wild', defaultService: 'wild' },
    { name: 'deep', defaultService: 'deep' },
    { name: 'any', pathRules: [{ paths: ['/only/*'], service: 'any' }] }
  ]
}

const cases: Array<[string | undefined, string, string | undefined]> = [
  ['api.example.test', '/v1/things', 'api-v1'],
  ['api.example.test:8443', '/v1/things?x=1', 'api-v1'],
  ['API.Example.Test', '/v1/users/42', 'api-v1-users'],
  ['api.example.test', '/v1/users', 'api-v1-users'],
  ['api.example.test', '/v1/users?page=2', 'api-v1-users'],
  ['api.example.test', '/v1/', 'login'], // exact beats an equally long prefix
  ['api.example.test', '/v1', 'root'], // "/v1/*" does not match "/v1"
  ['api.example.test', '/login', 'login'],
  ['api.example.test', '/login/x', 'root'],
  ['api.example.test', '/', 'root'],
  ['api2.example.test', '/v1/x', 'api-v1'],
  ['api.example.test.', '/v1/x', 'api-v1'],
  ['a.example.com', '/anything', 'wild'],
  ['a.b.example.com', '/anything', 'wild'],
  ['x.deep.example.com:80', '/', 'deep'], // longest wildcard suffix wins
  ['example.com', '/only/x', 'any'], // "*.example.com" needs a non-empty prefix
  ['other.test', '/only/thing', 'any'],
  ['other.test', '/elsewhere', undefined], // matcher without default routes nowhere
  [undefined, '/only/y', 'any']
]

t.test('routes by host then longest path', async (t) => {
  const router = compileUrlMap(urlMap, services)
  for (const [host, path, want] of cases) {
    t.equal(router.route(host, path), want, `${String(host)} ${path}`)
  }
})

t.test('without host rules everything goes to the default service, or nowhere', async (t) => {
  t.equal(compileUrlMap({ defaultService: 'web' }, services).route('x', '/y'), 'web')
  t.equal(compileUrlMap({}, services).route('x', '/y'), undefined)
  const noAny = compileUrlMap({ ...urlMap, hostRules: urlMap.hostRules?.slice(0, 1) ?? [] }, services)
  t.equal(noAny.route('nomatch.test', '/v1/x'), 'web')
})

const invalid: Array<[string, UrlMapOptions, string, string]> = [
  ['unknown default', { defaultService: 'nope' }, 'ERR_SPIFFE_PROXY_UNKNOWN_SERVICE', 'urlMap.defaultService'],
  ['unknown rule service', { pathMatchers: [{ name: 'm', pathRules: [{ paths: ['/a'], service: 'nope' }] }] },
    'ERR_SPIFFE_PROXY_UNKNOWN_SERVICE', 'urlMap.pathMatchers[0].pathRules[0].service'],
  ['unknown matcher', { hostRules: [{ hosts: ['a'], pathMatcher: 'm' }] },
    'ERR_SPIFFE_PROXY_UNKNOWN_PATH_MATCHER', 'urlMap.hostRules[0].pathMatcher'],
  ['star inside path', { pathMatchers: [{ name: 'm', pathRules: [{ paths: ['/a/*/b'], service: 'web' }] }] },
    'ERR_SPIFFE_PROXY_BAD_PATH_PATTERN', 'urlMap.pathMatchers[0].pathRules[0].paths[0]'],
  ['star without slash', { pathMatchers: [{ name: 'm', pathRules: [{ paths: ['/a*'], service: 'web' }] }] },
    'ERR_SPIFFE_PROXY_BAD_PATH_PATTERN', 'urlMap.pathMatchers[0].pathRules[0].paths[0]'],
  ['relative path', { pathMatchers: [{ name: 'm', pathRules: [{ paths: ['a'], service: 'web' }] }] },
    'ERR_SPIFFE_PROXY_BAD_PATH_PATTERN', 'urlMap.pathMatchers[0].pathRules[0].paths[0]'],
  ['repeated path', { pathMatchers: [{ name: 'm', pathRules: [{ paths: ['/a'], service: 'web' }, { paths: ['/a'], service: 'api' }] }] },
    'ERR_SPIFFE_PROXY_DUPLICATE_PATH', 'urlMap.pathMatchers[0].pathRules[1].paths[0]'],
  ['repeated matcher', { pathMatchers: [{ name: 'm' }, { name: 'm' }] },
    'ERR_SPIFFE_PROXY_DUPLICATE_PATH_MATCHER', 'urlMap.pathMatchers[1].name'],
  ['star inside host', { hostRules: [{ hosts: ['a.*.com'], pathMatcher: 'm' }], pathMatchers: [{ name: 'm' }] },
    'ERR_SPIFFE_PROXY_BAD_HOST_PATTERN', 'urlMap.hostRules[0].hosts[0]'],
  ['host with port', { hostRules: [{ hosts: ['a.com:80'], pathMatcher: 'm' }], pathMatchers: [{ name: 'm' }] },
    'ERR_SPIFFE_PROXY_BAD_HOST_PATTERN', 'urlMap.hostRules[0].hosts[0]'],
  ['repeated host', { hostRules: [{ hosts: ['a.com'], pathMatcher: 'm' }, { hosts: ['A.com'], pathMatcher: 'm' }], pathMatchers: [{ name: 'm' }] },
    'ERR_SPIFFE_PROXY_DUPLICATE_HOST', 'urlMap.hostRules[1].hosts[0]']
]
for (const [name, map, code, at] of invalid) {
  t.test(`refuses ${name}`, async (t) => {
    t.throws(() => compileUrlMap(map, services), { code, at })
  })
}

t.test('normalizes hosts', async (t) => {
  const hosts: Array<[string | undefined, string]> = [
    ['Example.COM:8080', 'example.com'], ['[::1]:443', '[::1]'], ['[::1]', '[::1]'],
    ['a.test.', 'a.test'], [undefined, ''], ['127.0.0.1:80', '127.0.0.1']
  ]
  for (const [input, want] of hosts) t.equal(normalizeHost(input), want, String(input))
})
