import t from 'tap'
import { isSpiffeLbError } from '../internal/errors.ts'
import { SpiffeIdPattern } from './id-pattern.ts'
import { SpiffeId } from './spiffe-id.ts'

const matches: Array<[pattern: string, id: string, expected: boolean]> = [
  ['spiffe://example.org/**', 'spiffe://example.org/a', true],
  ['spiffe://example.org/**', 'spiffe://example.org/a/b/c', true],
  ['spiffe://example.org/**', 'spiffe://other.org/a', false],
  ['spiffe://example.org/ns/*/sa/web', 'spiffe://example.org/ns/prod/sa/web', true],
  ['spiffe://example.org/ns/*/sa/web', 'spiffe://example.org/ns/prod/sa/api', false],
  ['spiffe://example.org/ns/*/sa/web', 'spiffe://example.org/ns/prod/x/sa/web', false],
  ['spiffe://example.org/ns/backends/sa/*', 'spiffe://example.org/ns/backends/sa/one', true],
  ['spiffe://example.org/ns/backends/sa/*', 'spiffe://example.org/ns/backends/sa', false],
  ['spiffe://example.org/ns/backends/sa/*', 'spiffe://example.org/ns/backends/sa/one/two', false],
  ['spiffe://example.org/a/**', 'spiffe://example.org/a', false],
  ['spiffe://example.org/web', 'spiffe://example.org/web', true],
  ['spiffe://example.org/web', 'spiffe://example.org/Web', false],
  ['SPIFFE://example.org/web', 'spiffe://example.org/web', true]
]

t.test('matching', async (t) => {
  for (const [pattern, id, expected] of matches) {
    t.equal(SpiffeIdPattern.parse(pattern).matches(SpiffeId.fromString(id)), expected, `${pattern} vs ${id}`)
  }
  t.equal(SpiffeIdPattern.parse('SPIFFE://example.org/ns/*/**').toString(), 'spiffe://example.org/ns/*/**', 'canonical form')
})

t.test('invalid patterns name the rule', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['spiffe://example.org', /no path; use "\/\*\*"/],
    ['spiffe://example.org/**/web', /"\*\*" may only be the last segment/],
    ['spiffe://example.org/web-*', /must be a whole segment/],
    ['spiffe://*.example.org/web', /invalid/],
    ['https://example.org/web', /invalid/],
    ['example.org/web', /expected spiffe:\/\/TRUST_DOMAIN\/PATH/],
    ['spiffe://example.org/a//b', /invalid/]
  ]
  for (const [input, message] of bad) {
    let caught: unknown
    try { SpiffeIdPattern.parse(input) } catch (err) { caught = err }
    t.ok(isSpiffeLbError(caught, 'ERR_SPIFFE_ID_PATTERN_INVALID'), `${input}: coded`)
    t.match(isSpiffeLbError(caught) ? caught.message : '', message, input)
  }
})
