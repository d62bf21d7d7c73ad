/**
 * Differential test of the lean HTTP/1.1 request path against node:http's server in strict
 * mode: both get the same bytes (a corpus of request smuggling vectors and thousands of seeded
 * mutations of valid requests) and must reach the same decision with the same method, target,
 * version, headers, body framing, upgrade and keep-alive for every message. Where the lean
 * path refuses what node:http serves, the case must be one of the listed stricter rules.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer, type IncomingMessage } from 'node:http'
import { Duplex } from 'node:stream'
import t from 'tap'
import { Http1Parser } from '../src/proxy/http1/http1-parser.ts'
import { checkRequestHead } from '../src/proxy/request-head.ts'
import { corpus, mutations } from './http1-corpus.ts'

const MAX_HEADER_SIZE = 16384

/** One message as either side saw it. */
interface Seen {
  head: string
  accepted: boolean
  /** The lean path's refusal reason (its status and text). */
  refusal?: string
  body: string
  complete: boolean
  /** An accepted upgrade: nothing after its head is HTTP. */
  upgraded?: boolean
}
interface Outcome { messages: Seen[], error: string | undefined }

function headKey (method: string, url: string, version: string, raw: readonly string[], upgrade: boolean, keepAlive: boolean): string {
  // node:http does not expose keep-alive for an upgrade, and it does not matter there.
  return JSON.stringify([method, url, version, raw, upgrade, upgrade ? null : keepAlive])
}

/** The lean path: Http1Parser plus the frontend's head rules, stopping at the first refusal. */
function lean (input: Buffer): Outcome {
  const messages: Seen[] = []
  let stopped = false
  let current: Seen | undefined
  const parser = new Http1Parser('request', MAX_HEADER_SIZE, {
    head: (h) => {
      if (stopped) return false
      const verdict = checkRequestHead(h)
      current = { head: headKey(h.method, h.url, `${h.versionMajor}.${h.versionMinor}`, h.rawHeaders, h.upgrade, h.keepAlive), accepted: verdict.ok, body: '', complete: false }
      if (!verdict.ok) { current.refusal = `${verdict.status} ${verdict.reason}`; stopped = true }
      messages.push(current)
      if (h.upgrade && verdict.ok) { stopped = true; current.upgraded = true; current.complete = true }
      return false
    },
    body: (c) => { if (current !== undefined && !stopped) current.body += c.toString('latin1') },
    complete: () => { if (current !== undefined && current.accepted) current.complete = true }
  })
  let error: string | undefined
  const r = parser.execute(input)
  if (typeof r !== 'number') error = r.code
  else if (!stopped) error = parser.finish()?.code
  parser.free()
  return { messages, error }
}

/** A socket node:http's server can be handed: records nothing, accepts writes. */
class FakeSocket extends Duplex {
  readonly remoteAddress = '127.0.0.1'
  override _read (): void {}
  override _write (_c: Buffer, _e: BufferEncoding, cb: () => void): void { cb() }
  setTimeout (): this { return this }
  setNoDelay (): this { return this }
  setKeepAlive (): this { return this }
}

/** node:http's server, strict (`insecureHTTPParser` off), with the proxy's listeners. */
function nodeServer (): { run: (input: Buffer) => Promise<Outcome>, close: () => void } {
  let messages: Seen[] = []
  let error: string | undefined
  const byReq = new Map<IncomingMessage, Seen>()
  const key = (req: IncomingMessage, keepAlive: boolean): string =>
    headKey(req.method ?? '', req.url ?? '', req.httpVersion, req.rawHeaders, (req as IncomingMessage & { upgrade: boolean }).upgrade, keepAlive)
  const server = createServer({ maxHeaderSize: MAX_HEADER_SIZE, insecureHTTPParser: false }, (req, res) => {
    const seen = byReq.get(req)
    if (seen === undefined) throw new Error('request not announced on the diagnostics channel')
    seen.accepted = true
    seen.head = key(req, res.shouldKeepAlive)
    req.on('data', (c: Buffer) => { seen.body += c.toString('latin1') })
    req.on('end', () => { res.end() })
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const seen = byReq.get(req)
    if (seen !== undefined) { seen.accepted = true; seen.upgraded = true; seen.complete = true; seen.head = key(req, true) } else messages.push({ head: key(req, true), accepted: true, body: '', complete: true, upgraded: true })
    socket.destroy()
  })
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    error ??= err.code ?? err.message
    socket.destroy()
  })
  // Every head node:http builds is announced here, also those it then refuses (Host, Expect).
  const onStart = (m: unknown): void => {
    const { request } = m as { request: IncomingMessage }
    const seen: Seen = { head: key(request, false), accepted: false, body: '', complete: false }
    byReq.set(request, seen)
    messages.push(seen)
  }
  subscribe('http.server.request.start', onStart)
  return {
    run: async (input) => {
      messages = []
      error = undefined
      const socket = new FakeSocket()
      server.emit('connection', socket)
      socket.push(input)
      socket.push(null)
      for (let i = 0; i < 6; i++) await new Promise((resolve) => setImmediate(resolve))
      socket.destroy()
      // req.complete is set by the parser itself; 'end' may never come once an error cut the socket.
      for (const [req, seen] of byReq) { if (seen.accepted) seen.complete = req.complete }
      byReq.clear()
      return { messages, error }
    },
    close: () => { unsubscribe('http.server.request.start', onStart) }
  }
}

/**
 * Compares one input's outcomes: returns undefined when they agree, `stricter: …` when the
 * lean path refused what node:http served, or `MISMATCH: …`.
 */
function compare (l: Outcome, n: Outcome): string | undefined {
  for (let i = 0; i < l.messages.length; i++) {
    const a = l.messages[i]
    const b = n.messages[i]
    if (a === undefined) break
    if (b === undefined && !a.accepted) return undefined // both refuse (node:http cuts CONNECT silently)
    if (b === undefined) return `MISMATCH: lean parsed message ${i}, node:http did not (${n.error ?? 'no error'})`
    if (!a.accepted) return b.accepted ? `stricter: ${a.refusal ?? ''}` : undefined
    if (a.head !== b.head) return `MISMATCH: head ${i}: lean ${a.head} node ${b.head}`
    if (!b.accepted) return `MISMATCH: node:http refused message ${i} the lean path accepted`
    if (a.complete !== b.complete || (a.complete && a.body !== b.body)) {
      return `MISMATCH: body ${i}: lean ${JSON.stringify(a.body)} (${a.complete}) node ${JSON.stringify(b.body)} (${b.complete})`
    }
  }
  const last = l.messages.at(-1)
  // After an upgrade head both stop parsing: the rest of the bytes belong to the tunnel.
  if (last?.upgraded === true) return undefined
  if (l.messages.length < n.messages.length) {
    return l.error === undefined ? `MISMATCH: node:http parsed ${n.messages.length} messages, lean ${l.messages.length}` : `stricter: parse error ${l.error}`
  }
  if (l.error !== undefined && n.error === undefined) return `stricter: parse error ${l.error}`
  if (l.error === undefined && n.error !== undefined) return `MISMATCH: node:http error ${n.error} after the last message`
  return undefined
}

/** Stricter rules the lean path may apply (checkRequestHead's own, beyond node:http). */
const ALLOWED_STRICTER = [
  /^stricter: 400 more than one host header$/,
  /^stricter: 400 request target is not in origin, absolute or asterisk form$/,
  /^stricter: 505 http version/,
  /^stricter: 431 more than 1000 request header fields$/,
  // node:http checks Host only on requests it does not upgrade.
  /^stricter: 400 http\/1\.1 request without host header$/
]

t.test('the lean parser decides the smuggling corpus as node:http does, or stricter', async (t) => {
  const node = nodeServer()
  t.teardown(node.close)
  const stricter: string[] = []
  for (const c of corpus) {
    const l = lean(Buffer.from(c.input, 'latin1'))
    const n = await node.run(Buffer.from(c.input, 'latin1'))
    const diff = compare(l, n)
    if (diff?.startsWith('stricter') === true) stricter.push(`${c.name}: ${diff}`)
    t.notOk(diff?.startsWith('MISMATCH'), `${c.name}: ${diff ?? 'same decision'}`)
    if (diff?.startsWith('stricter') === true) t.ok(ALLOWED_STRICTER.some((re) => re.test(diff)), `${c.name}: a listed stricter rule`)
    // The corpus says what each vector must come to on the lean path.
    const accepted = l.messages.length > 0 && l.messages.every((m) => m.accepted) && l.error === undefined
    t.equal(accepted, c.accept, `${c.name}: lean path ${c.accept ? 'serves' : 'refuses'} it`)
  }
  t.comment(`lean path stricter than node:http on ${stricter.length} corpus cases:\n${stricter.join('\n')}`)
})

t.test('thousands of seeded mutations: same decision as node:http, or a listed stricter one', async (t) => {
  const node = nodeServer()
  t.teardown(node.close)
  const counts = { same: 0, stricter: 0, mismatch: 0 }
  const stricter = new Map<string, string>()
  const mismatches: string[] = []
  for (const input of mutations(0x5eed, 5000)) {
    const buf = Buffer.from(input, 'latin1')
    const diff = compare(lean(buf), await node.run(buf))
    if (diff === undefined) { counts.same++; continue }
    if (diff.startsWith('stricter') && ALLOWED_STRICTER.some((re) => re.test(diff))) {
      counts.stricter++
      if (!stricter.has(diff)) stricter.set(diff, JSON.stringify(input))
      continue
    }
    counts.mismatch++
    if (mismatches.length < 10) mismatches.push(`${diff}\n  input: ${JSON.stringify(input)}`)
  }
  for (const m of mismatches) t.comment(m)
  t.same(mismatches.length, 0, 'no input where the lean path is laxer than node:http or parses differently')
  t.ok(counts.same > 1000, `most mutations decided identically (${counts.same})`)
  t.comment(`same ${counts.same}, stricter ${counts.stricter}; stricter rules hit:\n${[...stricter].map(([d, i]) => `${d}  e.g. ${i}`).join('\n')}`)
})
