/**
 * `/status` and `/readyz` of `serve --workers N` (docs/metrics.md): every worker runs its own
 * proxy, health checks and passive ejection, so the primary asks each for its view and merges
 * them into the one list the admin listener serves.
 */
import type { EndpointHealth, ServiceHealth } from './status.ts'

/** A backend service as the running config defines it: the list the merge reports on. */
export interface ExpectedService { name: string, policy?: string, endpoints: readonly string[] }

/** One worker's answer to a status request, or why there is none. */
export type WorkerAnswer =
  | { worker: string, services: readonly ServiceHealth[] }
  | { worker: string, error: string }

/**
 * Returns the cluster's view of `expected`: an endpoint is healthy only when every worker
 * answered and reports it healthy, so a worker that did not answer (or has ejected the
 * endpoint, or does not route to it yet) makes it unhealthy, with each reason prefixed by the
 * worker; with no worker at all every endpoint is unhealthy. `/readyz` then says not ready
 * when no endpoint is left. In-flight counts are summed over the workers.
 */
export function mergeWorkerServices (expected: readonly ExpectedService[], answers: readonly WorkerAnswer[]): ServiceHealth[] {
  return expected.map((svc) => ({
    name: svc.name,
    ...(svc.policy === undefined ? {} : { policy: svc.policy }),
    endpoints: svc.endpoints.map((endpoint) => mergeEndpoint(svc.name, endpoint, answers))
  }))
}

function mergeEndpoint (service: string, endpoint: string, answers: readonly WorkerAnswer[]): EndpointHealth {
  const reasons: string[] = []
  let inFlight = 0
  let peerSpiffeId: string | undefined
  if (answers.length === 0) reasons.push('no worker is running')
  for (const a of answers) {
    if ('error' in a) {
      reasons.push(`worker ${a.worker}: ${a.error}`)
      continue
    }
    const e = a.services.find((s) => s.name === service)?.endpoints.find((x) => x.endpoint === endpoint)
    if (e === undefined) {
      reasons.push(`worker ${a.worker}: does not route to it`)
      continue
    }
    inFlight += e.inFlight ?? 0
    peerSpiffeId ??= e.peerSpiffeId
    if (!e.healthy) reasons.push(`worker ${a.worker}: ${e.reason ?? 'unhealthy'}`)
  }
  return {
    endpoint,
    healthy: reasons.length === 0,
    ...(reasons.length === 0 ? {} : { reason: reasons.join('; ') }),
    inFlight,
    ...(peerSpiffeId === undefined ? {} : { peerSpiffeId })
  }
}
