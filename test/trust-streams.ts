// Test support for the trust-withdrawal tests: one open stream of each long-lived kind through
// the proxy (WebSocket, gRPC server stream, HTTP/2 streaming response, chunked HTTP/1.1
// response), each to the `/ticks`-style endpoints of the echo backend, and the checks of how
// they ended.
import http from 'node:http'
import http2 from 'node:http2'
import type { Test } from 'tap'
import * as grpc from '@grpc/grpc-js'
import WebSocket from 'ws'
import { ECHO_SERVICE } from '../src/testbed/echo-grpc.ts'

const Echo = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo')
type Ticks = (req: Buffer) => grpc.ClientReadableStream<Buffer>

/** Resolves with `p`, or rejects after `ms` naming `what` (a stream that never ends fails the test). */
export async function within<T> (p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`gave up waiting for ${what}`)) }, ms) })
  try { return await Promise.race([p, limit]) } finally { clearTimeout(timer) }
}

/** The streams {@link openStreams} opened; each promise says how its stream ended. */
export interface OpenStreams {
  ws: Promise<number>
  grpc: Promise<grpc.ServiceError | 'ended'>
  h2: Promise<{ rstCode: number, ended: boolean }>
  h1: Promise<{ complete: boolean }>
  /** Messages and chunks received after the first of each stream. */
  ticks: () => number
  close: () => void
}

/**
 * Opens one stream of each kind through the proxy at `port`: WebSocket and chunked `/ticks`
 * with host `PREFIX-h1.test`, gRPC `Ticks` and an h2c `/ticks` with host `PREFIX-h2.test`.
 * Resolves once each has delivered its first message.
 */
export async function openStreams (port: number, prefix: string): Promise<OpenStreams> {
  let ticks = 0
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: `${prefix}-h1.test` } })
  ws.on('error', () => {})
  await within(new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('unexpected-response', (_req, res) => { reject(new Error(`websocket upgrade answered ${res.statusCode ?? 0}`)) })
  }), 'the websocket to open')
  const wsClosed = new Promise<number>((resolve) => { ws.once('close', (code: number) => { resolve(code) }) })
  ws.on('message', () => { ticks++ })
  const pinger = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send('ping') }, 100)
  void wsClosed.then(() => { clearInterval(pinger) })

  const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': `${prefix}-h2.test` })
  const call = (client as unknown as { ticks: Ticks }).ticks(Buffer.from('tick'))
  const grpcEnded = new Promise<grpc.ServiceError | 'ended'>((resolve) => {
    call.on('error', (err: grpc.ServiceError) => { resolve(err) })
    call.on('end', () => { resolve('ended') })
  })
  await within(new Promise((resolve) => { call.once('data', resolve) }), 'the first grpc message')
  call.on('data', () => { ticks++ })

  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  const stream = session.request({ ':path': '/ticks', ':authority': `${prefix}-h2.test` })
  stream.on('error', () => {})
  let h2ended = false
  stream.on('end', () => { h2ended = true })
  const h2Closed = new Promise<{ rstCode: number, ended: boolean }>((resolve) => { stream.once('close', () => { resolve({ rstCode: stream.rstCode ?? 0, ended: h2ended }) }) })
  await within(new Promise((resolve) => { stream.once('data', resolve) }), 'the first h2 chunk')
  stream.on('data', () => { ticks++ })

  const chunked = await openChunked(port, `${prefix}-h1.test`)
  const h1Closed = chunked.closed
  const res = chunked.res
  res.on('data', () => { ticks++ })

  return {
    ws: wsClosed,
    grpc: grpcEnded,
    h2: h2Closed,
    h1: h1Closed,
    ticks: () => ticks,
    close: () => { ws.terminate(); call.cancel(); client.close(); session.destroy(); res.destroy() }
  }
}

/** How the streams to a backend that lost our trust must end. */
export interface ExpectedEnd { wsCode: number, grpcMessage: RegExp }

/** Checks each stream of `s` ended with its protocol's signal for a withdrawal of trust. */
export async function checkEnded (t: Test, s: OpenStreams, expect: ExpectedEnd): Promise<void> {
  t.equal(await within(s.ws, 'the websocket to close'), expect.wsCode, `websocket closed with ${expect.wsCode}`)
  const g = await within(s.grpc, 'the grpc call to end')
  t.equal(g === 'ended' ? 'ended' : g.code, grpc.status.UNAVAILABLE, 'grpc call ended UNAVAILABLE')
  if (g !== 'ended') t.match(g.details, expect.grpcMessage, 'grpc-message names the reason')
  const h2 = await within(s.h2, 'the h2 stream to close')
  t.notOk(h2.ended, 'the h2 stream did not end normally')
  t.not(h2.rstCode, 0, `the h2 stream was reset (code ${h2.rstCode})`)
  t.same(await within(s.h1, 'the chunked response to be cut'), { complete: false }, 'the chunked response was cut, not finished')
}

/** Checks every stream of `s` delivers more and none of them ended. */
export async function checkFlowing (t: Test, s: OpenStreams): Promise<void> {
  const before = s.ticks()
  await within((async () => { while (s.ticks() < before + 8) await new Promise((resolve) => setTimeout(resolve, 50)) })(), 'the streams to keep flowing')
  const ended = await Promise.race([s.ws.then(() => 'ws'), s.grpc.then(() => 'grpc'), s.h2.then(() => 'h2'), s.h1.then(() => 'h1'), new Promise((resolve) => setTimeout(resolve, 300, 'none'))])
  t.equal(ended, 'none', 'streams to a backend that still verifies keep flowing; none ended')
}

/** Opens a chunked HTTP/1.1 `/ticks` response for `host`; `closed` says whether it completed. */
export async function openChunked (port: number, host: string): Promise<{ res: http.IncomingMessage, closed: Promise<{ complete: boolean }> }> {
  const res = await within(new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/ticks', agent: false, headers: { host } }, resolve)
    req.on('error', reject)
    req.end()
  }), 'the chunked response')
  res.on('error', () => {})
  const closed = new Promise<{ complete: boolean }>((resolve) => { res.once('close', () => { resolve({ complete: res.complete }) }) })
  await within(new Promise((resolve) => { res.once('data', resolve) }), 'the first chunk')
  return { res, closed }
}
