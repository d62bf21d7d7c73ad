// Test support only: a scripted SPIFFE Workload API server (grpc-js, over a Unix socket or TCP)
// and the rendering of the credential tests' Material as an X509SVIDResponse.
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Server, ServerCredentials, status, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js'
import { WORKLOAD_API_HEADER, workloadApiService, type X509SvidResponseInit } from '../workload-api-wire.ts'
import type { Material } from './credential-fixtures.ts'

/** A running fake; every field is live. */
export interface FakeWorkloadApi {
  /** `unix:///…/agent.sock` or `tcp://127.0.0.1:PORT`. */
  address: string
  /** The message each new stream receives first (none while undefined: the stream waits). */
  current: X509SvidResponseInit | undefined
  /** When set, each new stream is ended at once with this status code. */
  refuse: { code: status, details: string } | undefined
  /** Requests seen, with whether they carried the security header. */
  requests: Array<{ header: boolean }>
  /** Open streams. */
  readonly open: number
  /** Sets {@link current} and sends it on every open stream. */
  push: (msg: X509SvidResponseInit) => void
  /** Ends every open stream with `code` (e.g. UNAVAILABLE) without closing the server. */
  endStreams: (code: status) => void
  /** Stops the server (streams break); {@link restart} listens again on the same address. */
  kill: () => Promise<void>
  restart: () => Promise<void>
  close: () => Promise<void>
}

/** Starts a fake on a fresh Unix socket (default) or on 127.0.0.1 (`tcp`). */
export async function startFakeWorkloadApi (opts: { tcp?: boolean } = {}): Promise<FakeWorkloadApi> {
  const dir = mkdtempSync(join(tmpdir(), 'spiffe-lb-wapi-'))
  const streams = new Set<ServerWritableStream<object, unknown>>()
  let server: Server | undefined
  let bound = opts.tcp === true ? 'tcp://127.0.0.1:0' : `unix://${join(dir, 'agent.sock')}`
  const fake: FakeWorkloadApi = {
    address: bound,
    current: undefined,
    refuse: undefined,
    requests: [],
    get open () { return streams.size },
    push (msg) {
      fake.current = msg
      for (const s of streams) s.write(msg)
    },
    endStreams (code) {
      for (const s of streams) endWith(s, code, 'ended by the test')
      streams.clear()
    },
    kill: async () => {
      const s = server
      server = undefined
      streams.clear()
      s?.forceShutdown()
    },
    restart: async () => { await listen() },
    close: async () => { await fake.kill(); rmSync(dir, { recursive: true, force: true }) }
  }
  const listen = async (): Promise<void> => {
    const s = new Server()
    s.addService(workloadApiService(), {
      FetchX509SVID: (call: ServerWritableStream<object, unknown>) => {
        const header = call.metadata.get(WORKLOAD_API_HEADER)[0] === 'true'
        fake.requests.push({ header })
        if (fake.refuse !== undefined) { endWith(call, fake.refuse.code, fake.refuse.details); return }
        streams.add(call)
        call.on('cancelled', () => { streams.delete(call) })
        if (fake.current !== undefined) call.write(fake.current)
      },
      FetchX509Bundles: (call: ServerWritableStream<object, unknown>) => { endWith(call, status.UNIMPLEMENTED, 'not scripted') }
    })
    const grpcAddress = bound.startsWith('tcp://') ? bound.slice('tcp://'.length) : bound
    const port = await new Promise<number>((resolve, reject) => {
      s.bindAsync(grpcAddress, ServerCredentials.createInsecure(), (err, p) => { if (err === null) resolve(p); else reject(err) })
    })
    if (bound.startsWith('tcp://')) bound = `tcp://127.0.0.1:${port}`
    fake.address = bound
    server = s
  }
  await listen()
  return fake
}

/**
 * Returns `m` as a Workload API message: its chain and key as DER (the PEM bodies decoded as
 * they are, so a truncated or garbage PEM becomes truncated or garbage DER), the first bundle
 * of the SVID's trust domain as its `bundle`, every other as a federated bundle keyed
 * `spiffe://td`; a domain repeated among those is keyed by its bare name the second time.
 * The `spiffe_id` is the leaf's own URI SAN, as SPIRE sends it (`fallbackId` when unreadable).
 */
export function renderMaterial (m: Material, fallbackId: string): X509SvidResponseInit {
  const chain = pemBodies(m.chainPem)
  const id = leafId(chain) ?? fallbackId
  const own = new URL(id.startsWith('spiffe://') ? id : fallbackId).host
  let bundle: Buffer | undefined
  const federated: Record<string, Buffer> = {}
  for (const [td, pem] of m.bundles) {
    const der = pemBodies(pem)
    if (td === own && bundle === undefined) { bundle = der; continue }
    const key = `spiffe://${td}` in federated ? td : `spiffe://${td}`
    federated[key] = der
  }
  return {
    svids: [{ spiffe_id: id, x509_svid: chain, x509_svid_key: pkcs8(m.keyPem), bundle: bundle ?? Buffer.alloc(0) }],
    federated_bundles: federated
  }
}

/** Ends a server stream with a status (grpc-js sends the status of an emitted error). */
function endWith (call: ServerWritableStream<object, unknown>, code: status, details: string): void {
  call.emit('error', Object.assign(new Error(details), { code, details }) as ServiceError)
}

function pemBodies (pem: string): Buffer {
  const parts = [...pem.matchAll(/-----BEGIN [A-Z ]+-----([^-]*)(?:-----END [A-Z ]+-----|$)/g)]
  return Buffer.concat(parts.map((p) => Buffer.from((p[1] ?? '').replace(/\s+/g, ''), 'base64')))
}

function pkcs8 (keyPem: string): Buffer {
  try {
    return createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' })
  } catch {
    return pemBodies(keyPem)
  }
}

function leafId (chain: Buffer): string | undefined {
  try {
    return /URI:(spiffe:\/\/[^,\s]+)/.exec(new X509Certificate(chain).subjectAltName ?? '')?.[1]
  } catch {
    return undefined
  }
}
