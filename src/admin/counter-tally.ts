/**
 * Per-request counts of a labelled prom-client Counter, kept in plain cells and added to the
 * Counter when it is read: prom-client calls a metric's `collect()` before every read (a
 * scrape, `get()`, the cluster aggregation), so what it reports is exact. Per request this
 * costs three Map lookups and an increment; prom-client's own `inc()` hashes the label object
 * and allocates a new value record on every call, a visible share of a pooled request's CPU
 * (`bench proxy`'s breakdown). The combinations are bounded by the config, as the series are.
 */

/** A Counter child's increment. */
export interface Increment { inc: (value: number) => void }

interface Cell { count: number, readonly child: Increment }

/** Counts by three label values, in the metric's `labelNames` order. */
export interface CounterTally {
  /** Counts one event for the label values `a`, `b`, `c`. */
  add: (a: string, b: string, c: string) => void
  /** Adds what was counted since the last flush to the Counter; call from its `collect()`. */
  flush: () => void
}

/**
 * Returns a tally whose cells add to the Counter children `child(a, b, c)` returns (bound
 * once per combination, on its first event).
 */
export function counterTally (child: (a: string, b: string, c: string) => Increment): CounterTally {
  const root = new Map<string, Map<string, Map<string, Cell>>>()
  const cells: Cell[] = []
  return {
    add (a, b, c) {
      let byB = root.get(a)
      if (byB === undefined) root.set(a, byB = new Map())
      let byC = byB.get(b)
      if (byC === undefined) byB.set(b, byC = new Map())
      let cell = byC.get(c)
      if (cell === undefined) {
        cell = { count: 0, child: child(a, b, c) }
        byC.set(c, cell)
        cells.push(cell)
      }
      cell.count++
    },
    flush () {
      for (const cell of cells) {
        if (cell.count === 0) continue
        cell.child.inc(cell.count)
        cell.count = 0
      }
    }
  }
}
