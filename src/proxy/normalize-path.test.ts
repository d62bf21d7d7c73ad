import t from 'tap'
import { normalizeRequestPath, removeDotSegments } from './normalize-path.ts'

const accepted: Array<[string, string]> = [
  ['/hello', '/hello'],
  ['/hello/../f/x', '/f/x'],
  ['/f/x/../../hello', '/hello'],
  ['/%2e%2e/hello', '/hello'],
  ['/f/%2E%2E/hello', '/hello'],
  ['/f/x/%2e/y', '/f/x/y'],
  ['//f//x', '/f/x'],
  ['/%66/x', '/f/x'],
  ['/a%7eb', '/a~b'],
  ['/a%20b', '/a%20b'],
  ['/a%c3%a9', '/a%C3%A9'],
  ['/a/./b/', '/a/b/'],
  ['/a/b/..', '/a/'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['/x?a=../b&c=%2F', '/x?a=../b&c=%2F'],
  ['/', '/'],
  ['*', '*']
]
const refused: Array<[string, RegExp]> = [
  ['/f%2Fx', /encoded "\/"/],
  ['/f%2fx', /encoded "\/"/],
  ['/f%5Cx', /encoded "\\"/],
  ['/f\\x', /backslash/],
  ['/f%zz', /invalid percent-encoding/],
  ['/f%2', /invalid percent-encoding/],
  ['f', /must start with/]
]

t.test('normalised forms', async (t) => {
  for (const [input, want] of accepted) t.same(normalizeRequestPath(input), { ok: true, path: want }, input)
})

t.test('refused forms', async (t) => {
  for (const [input, why] of refused) {
    const r = normalizeRequestPath(input)
    t.equal(r.ok, false, input)
    if (!r.ok) t.match(r.reason, why, input)
  }
})

t.test('remove_dot_segments examples of RFC 3986 section 5.2.4', async (t) => {
  t.equal(removeDotSegments('/a/b/c/./../../g'), '/a/g')
  t.equal(removeDotSegments('/mid/content=5/../6'), '/mid/6')
})
