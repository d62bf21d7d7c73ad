import t from 'tap'
import { closestKey, editDistance, knownKeysAt } from './key-suggestion.ts'
import { configSchema } from './schema.ts'

t.test('editDistance', async (t) => {
  const cases: Array<[string, string, number]> = [['', '', 0], ['a', '', 1], ['kitten', 'sitting', 3], ['timeoutsec', 'timeoutsec', 0], ['abc', 'acb', 1], ['ca', 'abc', 3]]
  for (const [a, b, d] of cases) t.equal(editDistance(a, b), d, `${a} ~ ${b}`)
})

t.test('closestKey ignores case and gives up when nothing is close', async (t) => {
  const keys = ['timeoutSec', 'tlsSettings', 'healthCheck', 'name']
  const cases: Array<[string, string | undefined]> = [
    ['timeoutsec', 'timeoutSec'], ['timeout_sec', 'timeoutSec'], ['helthCheck', 'healthCheck'], ['nmae', 'name'], ['xyz', undefined], ['tls', undefined]
  ]
  for (const [key, want] of cases) t.equal(closestKey(key, keys), want, key)
})

t.test('knownKeysAt walks objects, lists, records, optionals and defaults of the config schema', async (t) => {
  t.same(knownKeysAt(configSchema, ['frontend']), ['listen', 'tls', 'serverTlsPolicy', 'allowTrace', 'limits'])
  t.ok(knownKeysAt(configSchema, ['backendServices', 0]).includes('timeoutSec'))
  t.same(knownKeysAt(configSchema, ['backendServices', 0, 'healthCheck']), ['requestPath', 'checkIntervalSec', 'timeoutSec', 'healthyThreshold', 'unhealthyThreshold'])
  t.same(knownKeysAt(configSchema, ['no', 'such', 'place']), [])
})
