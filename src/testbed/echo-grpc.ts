/**
 * The gRPC side of the test backend: the standard `grpc.health.v1.Health` service
 * (grpc-health-check) and a small `spiffe_lb.test.Echo` service, served by @grpc/grpc-js. The
 * backend's own HTTP/2 server owns each verified connection (so JSON echo and gRPC share one
 * port and one connection); streams whose content-type is `application/grpc*` are relayed to
 * grpc-js over an in-process HTTP/2 connection (a duplex pair), trailers included.
 */
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2'
import { duplexPair } from 'node:stream'
import * as grpc from '@grpc/grpc-js'
import { HealthImplementation } from 'grpc-health-check'
import { ECHO_TICK_MS } from '../defaults.ts'

const bytes = {
  serialize: (b: Buffer): Buffer => b,
  deserialize: (b: Buffer): Buffer => b
}

/** Echo methods; messages are raw bytes (no protobuf), which keeps tests free of a .proto. */
export const ECHO_SERVICE = {
  /** Answers the request bytes; `status:<code>:<message>` answers that gRPC status instead; `hang` never answers. */
  unary: { path: '/spiffe_lb.test.Echo/Unary', requestStream: false, responseStream: false, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize },
  /** Answers the request bytes N times, N = the first byte's value (at most 255). */
  serverStream: { path: '/spiffe_lb.test.Echo/ServerStream', requestStream: false, responseStream: true, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize },
  /** Answers the request bytes every TICK_MS until the client cancels: a long-lived stream. */
  ticks: { path: '/spiffe_lb.test.Echo/Ticks', requestStream: false, responseStream: true, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize },
  /** Answers each message as it arrives; ends when the client ends. */
  bidi: { path: '/spiffe_lb.test.Echo/Bidi', requestStream: true, responseStream: true, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize }
} satisfies grpc.ServiceDefinition

const echoImpl: grpc.UntypedServiceImplementation = {
  unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    const text = call.request.toString('utf8')
    const m = /^status:(\d+):(.*)$/s.exec(text)
    if (m !== null) { callback({ code: Number(m[1]), details: m[2] ?? '' }); return }
    if (text === 'hang') return
    callback(null, call.request)
  },
  serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    const n = call.request[0] ?? 0
    for (let i = 0; i < n; i++) call.write(call.request)
    call.end()
  },
  ticks: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    const timer = setInterval(() => { call.write(call.request) }, ECHO_TICK_MS)
    call.write(call.request)
    const stop = (): void => { clearInterval(timer) }
    call.once('cancelled', stop)
    call.once('close', stop)
    call.on('error', stop)
  },
  bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    call.on('data', (m: Buffer) => { call.write(m) })
    call.on('end', () => { call.end() })
  }
}

/** Returns true when `headers` open a gRPC call. */
export function isGrpc (headers: IncomingHttpHeaders): boolean {
  return (headers['content-type'] ?? '').startsWith('application/grpc')
}

/** The gRPC services of one backend. */
export interface GrpcEcho {
  /** Relays one gRPC stream of the backend's HTTP/2 server to the gRPC services. */
  handle (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void
  close (): void
}

/** Returns the gRPC services, ready to take streams. */
export function createGrpcEcho (): GrpcEcho {
  const server = new grpc.Server()
  new HealthImplementation({ '': 'SERVING', 'spiffe_lb.test.Echo': 'SERVING' }).addToServer(server)
  server.addService(ECHO_SERVICE, echoImpl)
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure())
  const [inner, outer] = duplexPair()
  injector.injectConnection(inner)
  const client = http2.connect('http://grpc.internal', { createConnection: () => outer })
  client.on('error', () => {}) // ends with the backend; each stream reports its own errors

  return {
    handle (stream, headers) {
      const forward: http2.OutgoingHttpHeaders = {}
      for (const [k, v] of Object.entries(headers)) if (v !== undefined && k !== ':authority' && k !== ':scheme') forward[k] = v
      const up = client.request(forward)
      let trailers: IncomingHttpHeaders | undefined
      stream.pipe(up)
      up.on('response', (h, flags) => {
        // A trailers-only answer (an error status, no message) arrives as headers with END_STREAM.
        const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0
        if (stream.destroyed) return
        stream.respond(h, endStream ? { endStream: true } : { waitForTrailers: true })
        if (!endStream) up.pipe(stream)
      })
      up.on('trailers', (h) => { trailers = h })
      stream.on('wantTrailers', () => { stream.sendTrailers(trailers ?? {}) })
      stream.on('close', () => { if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL) })
      up.on('close', () => { if (!stream.closed && (up.rstCode ?? 0) !== 0) stream.close(up.rstCode) })
      up.on('error', () => {})
      stream.on('error', () => {})
    },
    close () {
      client.destroy()
      server.forceShutdown()
    }
  }
}
