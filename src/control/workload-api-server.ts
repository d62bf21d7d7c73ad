import { createPrivateKey } from 'node:crypto'
import { Server, ServerCredentials, status, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js'
import { WORKLOAD_API_SOCKET_MODE } from '../defaults.ts'
import { systemClock, type Clock } from '../internal/clock.ts'
import { parsePem } from '../internal/pem.ts'
import type { WorkloadApiEndpoint } from '../credentials/workload-api-endpoint.ts'
import { WORKLOAD_API_HEADER, WORKLOAD_API_HEADER_VALUE, workloadApiService, type X509BundlesResponse, type X509SvidResponse } from '../credentials/workload-api-wire.ts'
import { bindPrivateSocket, removeStaleSocket } from './workload-api-socket.ts'
import { RotatingCredential, type CurrentCredential, type IssueParams, type IssuedPem, type RotationPolicy } from './rotating-credential.ts'
import { formatHostPort } from '../internal/host-port.ts'

/** Options of {@link createWorkloadApiServer}. */
export interface WorkloadApiServerOptions {
  /**
   * Where to listen (parse with `parseWorkloadApiEndpoint`); a stale Unix socket file is
   * replaced. A Unix socket's directory must exist and be writable by its owner only.
   */
  listen: WorkloadApiEndpoint
  /** Mode of a Unix socket, whatever the umask; default 0600 (only this user may connect). */
  socketMode?: number
  /** The SPIFFE ID served (`spiffe_id` of the one SVID). */
  identity: string
  /** The SVID's trust domain name: its anchors go into the SVID's `bundle`, all others are federated. */
  trustDomain: string
  /** Issues a chain (leaf first) and key; called at start and at each rotation. */
  issue: (p: IssueParams) => Promise<IssuedPem>
  /** Trust domain name → PEM anchors, read at every message (trust changes show on the next push). */
  trustAnchors: () => ReadonlyMap<string, string>
  rotation: RotationPolicy
  /** CRLs (DER) sent in every message's `crl` field, read at every message; default none. */
  crls?: () => readonly Buffer[]
  clock?: Clock
  onError?: (err: unknown) => void
}

/** A running Workload API server. */
export interface WorkloadApiServer {
  /** The address clients use (`unix:///…` or `tcp://IP:port` with the bound port). */
  readonly address: string
  /** Serial of the credential being served (1 after the first issuance), 0 before. */
  readonly serial: number
  /** Streams open now, both methods. */
  readonly streams: number
  /** When the next rotation is planned (clock ms). */
  readonly nextRotationAt: number | undefined
  /** Issues a new SVID now and pushes it on every open stream. */
  rotateNow (): Promise<void>
  /** Pushes the current state again on every open stream (a CRL or trust anchor changed). */
  pushNow (): void
  close (): Promise<void>
}

type Stream = ServerWritableStream<object, X509SvidResponse | X509BundlesResponse>

/**
 * Starts a SPIFFE Workload API server for one identity (SPIFFE Workload API §5): both X.509
 * methods as server streams. A request without `workload.spiffe.io: true` is answered
 * `InvalidArgument`. Every message is the full state: the SVID (chain, PKCS#8 key, its own
 * domain's bundle) and every other domain as a federated bundle keyed `spiffe://td`, sent when
 * a stream opens (once the first SVID is issued) and again on every rotation. Returns once bound.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Workload_API.md
 */
export async function createWorkloadApiServer (opts: WorkloadApiServerOptions): Promise<WorkloadApiServer> {
  const clock = opts.clock ?? systemClock
  const svidStreams = new Set<Stream>()
  const bundleStreams = new Set<Stream>()
  const bundles = (): { own: Buffer, others: Record<string, Buffer> } => {
    const others: Record<string, Buffer> = {}
    let own: Buffer = Buffer.alloc(0)
    for (const [td, pem] of opts.trustAnchors()) {
      if (td === opts.trustDomain) own = derOf(pem)
      else others[`spiffe://${td}`] = derOf(pem)
    }
    return { own, others }
  }
  const svidMessage = (c: CurrentCredential): X509SvidResponse => {
    const { own, others } = bundles()
    const key = createPrivateKey(c.keyPem).export({ type: 'pkcs8', format: 'der' })
    return { svids: [{ spiffe_id: opts.identity, x509_svid: derOf(c.chainPem), x509_svid_key: key, bundle: own, hint: '' }], crl: [...(opts.crls?.() ?? [])], federated_bundles: others }
  }
  const bundlesMessage = (): X509BundlesResponse => {
    const { own, others } = bundles()
    return { crl: [...(opts.crls?.() ?? [])], bundles: { [`spiffe://${opts.trustDomain}`]: own, ...others } }
  }
  const push = (c: CurrentCredential): void => {
    const svid = svidMessage(c)
    for (const s of svidStreams) s.write(svid)
    const all = bundlesMessage()
    for (const s of bundleStreams) s.write(all)
  }
  const credential = new RotatingCredential({ issue: opts.issue, policy: opts.rotation, clock, onError: opts.onError ?? (() => {}), onIssued: push })

  const open = (set: Set<Stream>, first: () => X509SvidResponse | X509BundlesResponse | undefined) => (call: Stream): void => {
    if (call.metadata.get(WORKLOAD_API_HEADER)[0] !== WORKLOAD_API_HEADER_VALUE) {
      call.emit('error', Object.assign(new Error('security header missing from request'),
        { code: status.INVALID_ARGUMENT, details: `security header missing from request: metadata "${WORKLOAD_API_HEADER}: true" is required` }) as ServiceError)
      return
    }
    set.add(call)
    call.on('cancelled', () => { set.delete(call) })
    call.on('close', () => { set.delete(call) })
    const msg = first()
    if (msg !== undefined) call.write(msg)
  }
  const server = new Server()
  server.addService(workloadApiService(), {
    FetchX509SVID: open(svidStreams, () => { const c = credential.current(); return c === undefined ? undefined : svidMessage(c) }),
    FetchX509Bundles: open(bundleStreams, () => credential.current() === undefined ? undefined : bundlesMessage())
  })
  const listen = opts.listen
  const bind = async (address: string): Promise<number> => await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, p) => { if (err === null) resolve(p); else reject(err) })
  })
  let port = 0
  if (listen.kind === 'unix') {
    try {
      await bindPrivateSocket(listen.path, opts.socketMode ?? WORKLOAD_API_SOCKET_MODE, async (path) => { await bind(`unix://${path}`) })
    } catch (err) {
      server.forceShutdown()
      throw err
    }
  } else {
    port = await bind(formatHostPort(listen.host, listen.port))
  }
  credential.start()
  const address = listen.kind === 'unix' ? listen.address : `tcp://${formatHostPort(listen.host, port)}`
  return {
    address,
    get serial () { return credential.current()?.serial ?? 0 },
    get streams () { return svidStreams.size + bundleStreams.size },
    get nextRotationAt () { return credential.nextRotationAt },
    rotateNow: async () => { await credential.rotateNow() },
    pushNow: () => { const c = credential.current(); if (c !== undefined) push(c) },
    close: async () => {
      await credential.stop()
      for (const s of [...svidStreams, ...bundleStreams]) s.end()
      await new Promise<void>((resolve) => { server.tryShutdown(() => { resolve() }) })
      server.forceShutdown()
      if (listen.kind === 'unix') removeStaleSocket(listen.path)
    }
  }
}

/** Returns the CERTIFICATE blocks of `pem` as concatenated DER (the Workload API's encoding). */
function derOf (pem: string): Buffer {
  return Buffer.concat(parsePem(pem).filter((b) => b.type === 'CERTIFICATE').map((b) => b.der))
}
