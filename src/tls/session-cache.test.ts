import t from 'tap'
import { SessionCache } from './session-cache.ts'

const entry = (tag: string): { session: Buffer, chain: [] } => ({ session: Buffer.from(tag), chain: [] })

t.test('finds a session only under the generations it was stored with', async (t) => {
  const cache = new SessionCache()
  cache.advance(1, 1)
  t.equal(cache.set('@127.0.0.1:1', 1, 1, entry('x')), true)
  t.equal(cache.get('@127.0.0.1:1', 1, 1)?.session.toString(), 'x')
  t.equal(cache.get('@127.0.0.1:1', 1, 2), undefined, 'other bundle generation')
  t.equal(cache.get('@127.0.0.1:1', 2, 1), undefined, 'other svid generation')
  t.equal(cache.get('@127.0.0.1:2', 1, 1), undefined, 'other endpoint')
})

const moves: Array<[string, number, number]> = [['svid', 2, 1], ['bundle', 1, 2], ['both', 2, 2]]
for (const [what, s, b] of moves) {
  t.test(`a ${what} generation change flushes old sessions and refuses late ones`, async (t) => {
    const cache = new SessionCache()
    cache.advance(1, 1)
    cache.set('e', 1, 1, entry('old'))
    cache.advance(s, b)
    t.equal(cache.size, 0)
    t.equal(cache.set('e', 1, 1, entry('late ticket')), false)
    t.equal(cache.size, 0)
    t.equal(cache.set('e', s, b, entry('new')), true)
  })
}

t.test('is bounded, dropping the least recently stored entry', async (t) => {
  const cache = new SessionCache(2)
  cache.advance(1, 1)
  for (const e of ['a', 'b', 'c']) cache.set(e, 1, 1, entry(e))
  t.equal(cache.size, 2)
  t.equal(cache.get('a', 1, 1), undefined)
  t.ok(cache.get('c', 1, 1))
  cache.delete('c', 1, 1)
  t.equal(cache.size, 1)
})
