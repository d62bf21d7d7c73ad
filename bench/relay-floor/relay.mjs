// The floor of a Node HTTP/1.1-over-mTLS relay: what `serve`'s pooled mode costs with nothing
// but the relaying. llhttp (spiffe-lb's strict binding) on both sides, pooled raw `tls`
// sockets to one backend, hop-by-hop fields dropped, X-Forwarded-For added; no routing,
// retries, breakers, timeouts, access log or metrics. A measuring tool, not a proxy: it
// trusts its backend and its clients. Started by compare.mjs:
//
//   node bench/relay-floor/relay.mjs BACKEND_HOST:PORT CERT_FILE KEY_FILE
//
// It sends its listening address over IPC.
import net from 'node:net'
import tls from 'node:tls'
import { readFileSync } from 'node:fs'
import { Http1Parser } from '../../dist/proxy/http1/http1-parser.js'

const [backend, certFile, keyFile] = process.argv.slice(2)
const [backendHost, backendPort] = backend.split(':')
const context = tls.createSecureContext({ cert: readFileSync(certFile), key: readFileSync(keyFile) })
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection', 'trailer'])
const idle = []

function withConnection (use) {
  let conn = idle.pop()
  while (conn !== undefined && conn.socket.destroyed) conn = idle.pop()
  if (conn !== undefined) { use(conn); return }
  const socket = tls.connect({ host: backendHost, port: Number(backendPort), secureContext: context, rejectUnauthorized: false, servername: 'backend' }, () => {
    socket.setNoDelay(true)
    const c = { socket, exchange: undefined, keepAlive: false }
    c.parser = new Http1Parser('response', 16384, {
      head: (h) => { c.keepAlive = h.keepAlive; c.exchange.head(h); return false },
      body: (chunk) => { c.exchange.body(chunk) },
      complete: () => {
        const done = c.exchange
        c.exchange = undefined
        // The backend closes after its keep-alive request limit: such a connection is not reused.
        if (c.keepAlive && !socket.destroyed) idle.push(c)
        else socket.destroy()
        done.end()
      }
    })
    socket.on('data', (d) => { c.parser.execute(d) })
    socket.on('error', () => {})
    use(c)
  })
  socket.on('error', () => {})
}

function fields (raw) {
  let out = ''
  for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i].toLowerCase())) out += `${raw[i]}: ${raw[i + 1]}\r\n`
  return out
}

net.createServer((client) => {
  client.setNoDelay(true)
  client.on('error', () => {})
  const parser = new Http1Parser('request', 16384, {
    head: (h) => {
      withConnection((conn) => {
        let answer = ''
        const chunks = []
        conn.exchange = {
          head: (r) => { answer = `HTTP/1.1 ${r.statusCode} ${r.statusMessage}\r\n${fields(r.rawHeaders)}\r\n` },
          body: (chunk) => { chunks.push(Buffer.from(chunk)) },
          end: () => { client.write(Buffer.concat([Buffer.from(answer, 'latin1'), ...chunks])) }
        }
        conn.socket.write(`${h.method} ${h.url} HTTP/1.1\r\n${fields(h.rawHeaders)}x-forwarded-for: ${client.remoteAddress}\r\n\r\n`, 'latin1')
      })
      return false
    },
    body: () => {},
    complete: () => {}
  })
  client.on('data', (d) => { parser.execute(d) })
}).listen(0, '127.0.0.1', function () { process.send({ address: `127.0.0.1:${this.address().port}` }) })
process.on('SIGTERM', () => { process.exit(0) })
