import t from 'tap'
import { createHash } from 'node:crypto'
import { request } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { forEachPoolMode, eventually, gate, startBackend, startTestProxy } from '../src/proxy/test-support.ts'

const CHUNK = 64 * 1024
const TOTAL = 20 * 1024 * 1024

/** Deterministic content: chunk i is filled with byte i % 251, so order and loss both show. */
const chunkAt = (i: number): Buffer => Buffer.alloc(CHUNK, i % 251)

function expectedDigest (): string {
  const h = createHash('sha256')
  for (let i = 0; i < TOTAL / CHUNK; i++) h.update(chunkAt(i))
  return h.digest('hex')
}

function get (port: number, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, resolve)
    req.on('error', reject)
    req.end()
  })
}

forEachPoolMode(t, (t, svc) => {

  t.test('streams a 20 MB body with backpressure instead of buffering it', async (t) => {
    let written = 0
    let finished = false
    const b = await startBackend('big', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) })
      let i = 0
      const pump = (): void => {
        while (i < TOTAL / CHUNK) {
          const ok = res.write(chunkAt(i++))
          written += CHUNK
          if (!ok) { res.once('drain', pump); return }
        }
        res.end(() => { finished = true })
      }
      pump()
    })
    t.teardown(() => b.close())
    // timeoutSec bounds the whole response: give the paused download room on a loaded machine.
    const { port } = await startTestProxy(t, { services: [svc('web', [b], { timeoutMs: 120_000 })], urlMap: { defaultService: 'web' } })

    const res = await get(port, '/big')
    t.equal(res.headers['content-length'], String(TOTAL))
    const hash = createHash('sha256')
    let received = 0
    // Read 64 KB, then stop reading: a streaming proxy stops pulling from the backend too.
    await new Promise<void>((resolve) => {
      const onData = (c: Buffer): void => {
        hash.update(c)
        received += c.length
        if (received >= 64 * 1024) { res.off('data', onData); res.pause(); resolve() }
      }
      res.on('data', onData)
    })
    // Wait until the backend is blocked on backpressure (its progress stops), then judge by bytes.
    let last = -1
    await eventually(() => { const still = written === last; last = written; return still }, 'the backend to stall', 10_000, 200)
    t.notOk(finished, 'the backend could not finish while the client was not reading')
    // Loopback kernel socket buffers (two connections, autotuned) hold several MB on their own,
    // so the bound is loose; a proxy that buffered the body would let the backend write it all.
    t.ok(written <= TOTAL * 0.75, `only ${(written / 1048576).toFixed(1)} MB of 20 MB left the backend while the client paused`)

    // Buffered data queued while paused is delivered on resume; read the rest and compare content.
    await new Promise<void>((resolve, reject) => {
      res.on('data', (c: Buffer) => { hash.update(c); received += c.length })
      res.on('end', resolve)
      res.on('error', reject)
      res.resume()
    })
    t.equal(received, TOTAL, 'every byte arrived')
    t.equal(hash.digest('hex'), expectedDigest(), 'in order and intact')
  })

  t.test('a client disconnecting mid-stream aborts the backend request', async (t) => {
    const backendClosed = gate()
    let chunks = 0
    const b = await startBackend('endless', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const timer = setInterval(() => { if (res.write(chunkAt(chunks))) chunks++ }, 5)
      res.on('close', () => {
        clearInterval(timer)
        if (!res.writableEnded) backendClosed.open()
      })
    })
    t.teardown(() => b.close())
    const { port, log } = await startTestProxy(t, { services: [svc('web', [b])], urlMap: { defaultService: 'web' } })
    const res = await get(port, '/stream')
    await new Promise<void>((resolve) => { res.once('data', () => { resolve() }) })
    res.destroy()
    await backendClosed.opened
    t.pass('the backend saw its response aborted')
    await eventually(() => log.requests().length === 1, 'the access-log line')
    t.match(log.requests()[0], { status: 499, error: 'client closed the connection' })
    t.equal(b.seen.length, 1)
  })

  t.test('streams a large request body to the backend', async (t) => {
    const b = await startBackend('sink', (req, res) => {
      const h = createHash('sha256')
      let n = 0
      req.on('data', (c: Buffer) => { h.update(c); n += c.length })
      req.on('end', () => { res.end(`${n} ${h.digest('hex')}`) })
    })
    t.teardown(() => b.close())
    const { port } = await startTestProxy(t, { services: [svc('web', [b])], urlMap: { defaultService: 'web' } })
    const size = 5 * 1024 * 1024
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/up', method: 'PUT', agent: false }, (res) => {
        let text = ''
        res.on('data', (c: Buffer) => { text += c.toString() })
        res.on('end', () => { resolve(text) })
      })
      req.on('error', reject)
      let i = 0
      const pump = (): void => {
        while (i < size / CHUNK) {
          if (!req.write(chunkAt(i++))) { req.once('drain', pump); return }
        }
        req.end()
      }
      pump()
    })
    const h = createHash('sha256')
    for (let i = 0; i < size / CHUNK; i++) h.update(chunkAt(i))
    t.equal(answer, `${size} ${h.digest('hex')}`)
  })

  t.test('the service timeout does not count a slow upload; the response it bounds is quick', async (t) => {
    const b = await startBackend('trickle', (req, res) => {
      let n = 0
      req.on('data', (c: Buffer) => { n += c.length })
      req.on('end', () => {
        res.writeHead(200)
        let i = 0
        const timer = setInterval(() => {
          res.write(`${i}.`)
          if (++i === 5) { clearInterval(timer); res.end(`got ${n}`) }
        }, 10)
      })
    })
    t.teardown(() => b.close())
    // The upload (5 x 400 ms) outlasts the timeout; only the wait for the response counts.
    const { port } = await startTestProxy(t, { services: [svc('web', [b], { timeoutMs: 1500 })], urlMap: { defaultService: 'web' } })
    const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/up', method: 'POST', agent: false }, (res) => {
        let text = ''
        res.on('data', (c: Buffer) => { text += c.toString() })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: text }) })
        res.on('error', reject)
      })
      req.on('error', reject)
      let i = 0
      const timer = setInterval(() => {
        req.write('xx')
        if (++i === 5) { clearInterval(timer); req.end() }
      }, 400)
    })
    t.same(answer, { status: 200, body: '0.1.2.3.4.got 10' })
  })
})
