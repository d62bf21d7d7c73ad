/**
 * A map bounded to `max` entries that drops the least recently used one first: the one LRU of
 * the project (docs/architecture.md#formats-and-defaults). A `Map` keeps insertion order, so
 * moving a key to the end on use makes its first key the least recently used. A bound of 0 keeps nothing.
 */
export class Lru<K, V> {
  readonly #max: number
  readonly #entries = new Map<K, V>()

  constructor (max: number) {
    this.#max = max
  }

  /** Returns the value of `key` and marks it most recently used; undefined when absent. */
  get (key: K): V | undefined {
    const value = this.#entries.get(key)
    if (value === undefined) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, value)
    return value
  }

  /** Returns the value of `key` without marking it used. */
  peek (key: K): V | undefined {
    return this.#entries.get(key)
  }

  /** Stores `value` under `key` as the most recently used, dropping the least recently used entry when over the bound. */
  set (key: K, value: V): void {
    this.#entries.delete(key)
    this.#entries.set(key, value)
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
  }

  /** Removes `key`; returns whether it was there. */
  delete (key: K): boolean {
    return this.#entries.delete(key)
  }

  /** Removes every entry. */
  clear (): void {
    this.#entries.clear()
  }

  /** Returns the keys, least recently used first. */
  keys (): IterableIterator<K> {
    return this.#entries.keys()
  }

  /** Returns the values, least recently used first. */
  values (): IterableIterator<V> {
    return this.#entries.values()
  }

  /** Number of entries. */
  get size (): number { return this.#entries.size }
}
