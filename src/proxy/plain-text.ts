/**
 * The proxy's own answers (no route, refused request, circuit breaker open, backend failure,
 * timeouts): one line of text saying why, never cached. One function for a response object,
 * one for a raw HTTP/1.1 socket, so every such answer has the same shape.
 */
import { http } from '../internal/node-http.ts'
import type { FrontResponse } from './front-response.ts'

const { STATUS_CODES } = http

const TEXT = 'text/plain; charset=utf-8'

/** Answers `res` with `status` and `message` (one line) as plain text, plus `extra` headers. */
export function answerPlainText (res: FrontResponse, status: number, message: string, extra: Readonly<Record<string, string>> = {}): void {
  const text = message.endsWith('\n') ? message : `${message}\n`
  res.statusCode = status
  res.setHeader('content-type', TEXT)
  res.setHeader('content-length', Buffer.byteLength(text))
  res.setHeader('cache-control', 'no-store')
  for (const [name, value] of Object.entries(extra)) res.setHeader(name, value)
  res.end(text)
}

/** Returns a whole HTTP/1.1 response answering `message` as plain text and closing the connection. */
export function plainTextResponse (status: number, message: string): string {
  const text = message.endsWith('\n') ? message : `${message}\n`
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: ${TEXT}\r\ncontent-length: ${Buffer.byteLength(text)}\r\n` +
    `cache-control: no-store\r\nconnection: close\r\n\r\n${text}`
}
