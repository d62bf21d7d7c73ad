import t from 'tap'
import { Lru } from './lru.ts'

t.test('drops the least recently used entry past its bound; get and set count as use, peek does not', async (t) => {
  const lru = new Lru<string, number>(2)
  lru.set('a', 1)
  lru.set('b', 2)
  t.equal(lru.get('a'), 1)
  lru.set('c', 3)
  t.same([...lru.keys()], ['a', 'c'], 'b was the least recently used')
  t.equal(lru.peek('a'), 1)
  lru.set('d', 4)
  t.same([...lru.keys()], ['c', 'd'], 'peek did not save a')
  lru.set('c', 30)
  t.same([...lru.values()], [4, 30], 'a set moves the key to the end')
  t.equal(lru.delete('d'), true)
  t.equal(lru.size, 1)
  lru.clear()
  t.equal(lru.get('c'), undefined)
})
