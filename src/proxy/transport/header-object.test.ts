import t from 'tap'
import { headerObject } from './header-object.ts'

const cases: Array<[string, string[], Record<string, string | string[]>]> = [
  ['names lowercased', ['Content-Type', 'text/plain', 'X-A', '1'], { 'content-type': 'text/plain', 'x-a': '1' }],
  ['a repeated field becomes a list, in order', ['Set-Cookie', 'a', 'set-cookie', 'b', 'SET-COOKIE', 'c'], { 'set-cookie': ['a', 'b', 'c'] }],
  ['__proto__ is dropped, once or repeated', ['__proto__', 'a', '__PROTO__', 'b', 'x-after', 'kept'], { 'x-after': 'kept' }],
  ['an empty list', [], {}]
]

t.test('raw header lists become undici-shaped objects', async (t) => {
  for (const [name, raw, want] of cases) {
    const got = headerObject(raw)
    t.same(got, want, name)
    t.equal(Object.getPrototypeOf(got), Object.prototype, `${name}: the prototype is untouched`)
  }
})

t.test('an empty list gives one shared, frozen empty object', async (t) => {
  t.equal(headerObject([]), headerObject([]))
  t.ok(Object.isFrozen(headerObject([])))
})
