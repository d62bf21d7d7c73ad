// What an HTTP/2 client gets for too large a header list, as the README says: 431 above
// frontend.limits.maxHeaderSize, and a reset stream (no answer) past the bounds of Node's
// HTTP/2 decoder (more than 128 fields, or about 64 KiB decoded).
import t from 'tap'
import http2 from 'node:http2'
import { startBackend, startTestProxy, testService } from '../src/proxy/test-support.ts'

const web = await startBackend('web')
t.teardown(() => web.close())
const { port } = await startTestProxy(t, { services: [testService('web', [web])], urlMap: { defaultService: 'web' } })

/** Sends one h2c request with `headers`; returns its status, or the RST_STREAM code it got. */
async function send (headers: Record<string, string>): Promise<{ status?: number, rstCode?: number }> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  try {
    return await new Promise((resolve) => {
      let status: number | undefined
      const stream = session.request({ ':path': '/', ...headers })
      stream.on('response', (h) => { status = Number(h[':status']) })
      stream.on('error', () => {})
      stream.resume()
      stream.on('close', () => { resolve(status === undefined ? { rstCode: stream.rstCode } : { status }) })
    })
  } finally {
    session.destroy()
  }
}
const fields = (n: number, size: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_v, i) => [`x-h${i}`, 'v'.repeat(size)]))

t.test('above maxHeaderSize (16 KiB by default): 431', async (t) => {
  t.same(await send({ 'x-a': 'b'.repeat(20_000) }), { status: 431 })
  t.same(await send(fields(100, 500)), { status: 431 })
  t.same(await send(fields(10, 10)), { status: 200 }, 'a small list passes')
})

t.test('past the decoder\'s bounds: the stream is reset without an answer', async (t) => {
  t.same(await send(fields(200, 1)), { rstCode: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM }, 'more than 128 fields')
  t.same(await send(fields(100, 700)), { rstCode: http2.constants.NGHTTP2_REFUSED_STREAM }, 'about 70 KiB decoded')
})
