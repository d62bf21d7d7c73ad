import { quote } from '../internal/errors.ts'
import { parseKeyAlgorithm, type KeyAlgorithm } from '../pki/key-algorithm.ts'
import { parseSubject } from '../pki/subject.ts'
import type { ConfigPath, IssueList } from './issues.ts'
import type { RawConfig } from './schema.ts'
import type { CaPoolConfig } from './types.ts'
import { CA_ID, parseDuration } from './values.ts'
import { DAY_MS } from '../defaults.ts'

// The pool ID also names the local CA's directory (src/control: `<stateDir>/ca-pools/<poolId>`),
// hence the lowercase rule, stricter than the cloud's.
const CA_POOL_NAME = /^projects\/([^/]+)\/locations\/([a-z0-9-]+)\/caPools\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$/

/** What pool validation needs from the rest of the config. */
export interface PoolContext {
  project: { id: string, number: string }
  /** False when the project number itself is broken: checks that compare against it are skipped. */
  projectNumberOk: boolean
  baseDir: string
  list: IssueList
}

/** Returns `text` parsed as a duration, or undefined after recording the problem at `path`. */
export function durationAt (text: string, path: ConfigPath, list: IssueList): number | undefined {
  try {
    return parseDuration(text)
  } catch (err) {
    list.addError(path, 'ERR_SPIFFE_CONFIG_DURATION', `${path[path.length - 1] ?? 'duration'} is not a duration`, err)
    return undefined
  }
}

/**
 * Returns the CA pool a `projects/P/locations/R/caPools/ID` reference names (P: the project's
 * number or id; any project when `anyProject`), or undefined.
 */
export function findCaPool (pools: readonly CaPoolConfig[], ref: string, project: { id: string, number: string }, anyProject = false): CaPoolConfig | undefined {
  const m = CA_POOL_NAME.exec(ref)
  if (m === null || (!anyProject && m[1] !== project.number && m[1] !== project.id)) return undefined
  return pools.find((p) => p.location === m[2] && p.poolId === m[3])
}

/** Returns the REGION of a `projects/P/locations/REGION/caPools/ID` reference, or undefined when it is not one. */
export function caPoolLocation (ref: string): string | undefined {
  return CA_POOL_NAME.exec(ref)?.[2]
}

/** Returns the `caPools[]` entries resolved (root CAs the local control plane creates on first use). */
export function resolveCaPools (raw: RawConfig['caPools'], ctx: PoolContext): CaPoolConfig[] {
  const { list, project } = ctx
  const out: CaPoolConfig[] = []
  raw.forEach((pool, i) => {
    const at = ['caPools', i]
    const m = CA_POOL_NAME.exec(pool.name)
    if (m === null) {
      list.add([...at, 'name'], 'ERR_SPIFFE_CONFIG_CA_POOL_NAME', `ca pool name must be "projects/PROJECT_NUMBER/locations/REGION/caPools/POOL_ID" (POOL_ID: 1 to 63 of [a-z0-9-], starting and ending with a letter or digit), got ${quote(pool.name)}`)
      return
    }
    if (ctx.projectNumberOk && m[1] !== project.number && m[1] !== project.id) {
      list.add([...at, 'name'], 'ERR_SPIFFE_CONFIG_CA_POOL_PROJECT', `ca pool ${quote(pool.name)} must be in this project (${quote(project.number)} or ${quote(project.id)})`)
    }
    const [location = '', poolId = ''] = [m[2], m[3]]
    if (out.some((p) => p.location === location && p.poolId === poolId)) {
      list.add([...at, 'name'], 'ERR_SPIFFE_CONFIG_DUPLICATE_CA_POOL', `ca pool ${quote(pool.name)} is defined twice`)
      return
    }
    const cas: CaPoolConfig['certificateAuthorities'] = []
    pool.certificateAuthorities.forEach((ca, j) => {
      const caAt = [...at, 'certificateAuthorities', j]
      if (!CA_ID.test(ca.id)) list.add([...caAt, 'id'], 'ERR_SPIFFE_CONFIG_CA_ID', `ca id must be 1 to 64 letters, digits, underscores or hyphens, got ${quote(ca.id)}`)
      else if (cas.some((c) => c.id === ca.id)) list.add([...caAt, 'id'], 'ERR_SPIFFE_CONFIG_DUPLICATE_CA', `ca id ${quote(ca.id)} is used twice in this pool`)
      try {
        parseSubject(ca.subject)
      } catch (err) {
        list.addError([...caAt, 'subject'], 'ERR_SPIFFE_CONFIG_CA_SUBJECT', 'subject is not a distinguished name', err)
      }
      let keyAlgorithm: KeyAlgorithm = 'RSA_4096'
      try {
        keyAlgorithm = parseKeyAlgorithm(ca.keyAlgorithm)
      } catch (err) {
        list.addError([...caAt, 'keyAlgorithm'], 'ERR_SPIFFE_CONFIG_CA_KEY_ALGORITHM', 'ca key algorithm is not supported', err)
      }
      const lifetimeMs = durationAt(ca.lifetime, [...caAt, 'lifetime'], list)
      if (lifetimeMs !== undefined && lifetimeMs < DAY_MS) {
        list.add([...caAt, 'lifetime'], 'ERR_SPIFFE_CONFIG_CA_LIFETIME', `ca lifetime must be at least 86400s (a ca must outlive the 24h certificates it issues), got ${quote(ca.lifetime)}`)
      }
      cas.push({ id: ca.id, subject: ca.subject, keyAlgorithm, maxChainLength: ca.maxChainLength, lifetimeMs: lifetimeMs ?? 0 })
    })
    out.push({ name: pool.name, location, poolId, certificateAuthorities: cas })
  })
  return out
}
