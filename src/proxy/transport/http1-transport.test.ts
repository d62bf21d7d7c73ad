import type { Socket } from 'node:net'
import t from 'tap'
import type { Dispatcher } from 'undici'
import { Http1Transport } from './http1-transport.ts'
import { TRANSPORT_CODES } from './transport-errors.ts'

type Open = (callback: (err: Error | null, socket: Socket | null) => void) => void

function transport (open: Open): Http1Transport {
  return new Http1Transport({
    open, identify: () => undefined, keepAlive: true, maxRequestsPerConnection: 0, keepAliveTimeoutMs: 1000, authority: '127.0.0.1:1', maxConnections: undefined
  })
}

const request: Dispatcher.DispatchOptions = { method: 'GET', path: '/', headers: [] }

t.test('close() waits for a connect in progress and resolves when it fails', async (t) => {
  let finish: (() => void) | undefined
  const tr = transport((callback) => { finish = () => { callback(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), null) } })
  const errors: string[] = []
  tr.dispatch(request, { onResponseError: (_c, err) => { errors.push((err as { code?: string }).code ?? '') } })
  let closed = false
  const closing = tr.close().then(() => { closed = true })
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(closed, 'still waiting while the connect runs')
  finish?.()
  await closing
  t.same(errors, ['ECONNREFUSED'], 'the request heard the connect failure')
})

t.test('a closed transport refuses requests with the closed code', async (t) => {
  const tr = transport(() => {})
  await tr.close()
  const code = await new Promise<string | undefined>((resolve) => {
    t.equal(tr.dispatch(request, { onResponseError: (_c, err) => { resolve((err as { code?: string }).code) } }), false)
  })
  t.equal(code, TRANSPORT_CODES.closed)
})
