/**
 * Load-balancing policies (`localityLbPolicy`, config/schema.ts) behind one interface. A balancer
 * only chooses among the endpoints it is handed, which are already the healthy ones, so health
 * and retry exclusion stay the caller's concern.
 */
import { quote } from '../internal/errors.ts'
import type { LbPolicy } from './types.ts'
import { LB_POLICIES, oneOfText } from '../enums.ts'
import { proxyError } from './errors.ts'

/** What a balancer can see of an endpoint. */
export interface Balanced { readonly inFlight: number }

/** Chooses one endpoint per request. */
export interface Balancer {
  /** Returns one of `healthy`, or undefined when it is empty. */
  pick<E extends Balanced> (healthy: readonly E[]): E | undefined
}

/** Cycles through the endpoints in order. */
export function roundRobin (): Balancer {
  let next = 0
  return {
    pick (healthy) {
      if (healthy.length === 0) return undefined
      const e = healthy[next % healthy.length]
      next = (next + 1) % 1_000_000_007
      return e
    }
  }
}

/** Picks uniformly at random. */
export function randomBalancer (random: () => number = Math.random): Balancer {
  return {
    pick (healthy) {
      return healthy.length === 0 ? undefined : healthy[index(random, healthy.length)]
    }
  }
}

/**
 * Least request by "power of two choices": samples two distinct endpoints and keeps the one
 * with fewer requests in flight (ties: the first sampled). Unlike a full scan it does not herd
 * every new request onto the same momentarily idle endpoint, and the most loaded endpoint is
 * never chosen while another exists.
 */
export function leastRequest (random: () => number = Math.random): Balancer {
  return {
    pick (healthy) {
      const n = healthy.length
      if (n <= 1) return healthy[0]
      const i = index(random, n)
      const j = (i + 1 + index(random, n - 1)) % n // distinct from i
      const a = healthy[i]
      const b = healthy[j]
      if (a === undefined || b === undefined) return a ?? b
      return b.inFlight < a.inFlight ? b : a
    }
  }
}

/** Returns the balancer for `policy`; throws `ERR_SPIFFE_PROXY_UNKNOWN_POLICY` for others. */
export function createBalancer (policy: LbPolicy, random: () => number = Math.random): Balancer {
  switch (policy) {
    case 'ROUND_ROBIN': return roundRobin()
    case 'RANDOM': return randomBalancer(random)
    case 'LEAST_REQUEST': return leastRequest(random)
    default:
      throw proxyError('ERR_SPIFFE_PROXY_UNKNOWN_POLICY',
        `load-balancing policy must be ${oneOfText(LB_POLICIES)}; got ${quote(policy)}`)
  }
}

function index (random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n))
}
