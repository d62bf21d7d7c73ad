import { createRequire } from 'node:module'
import type { DestinationStream } from 'pino'

// pino-pretty (and its dependencies) is required only when a pretty destination is made: a
// process logging JSON, as every supervised `serve` does, never pays the memory for it.
const require = createRequire(import.meta.url)

/**
 * The readable form of spiffe-lb's log records (`--log-format pretty`), made by pino-pretty in
 * this process, synchronously: one line per record, `HH:MM:ss.l LEVEL: message key=value …`,
 * never JSON. The fields a record carries are appended as `key=value`; an access-log record
 * (`msg: "request"`) reads `GET /path 200 12ms service → endpoint …`.
 */

/** Keys every record has; they are shown by the prefix or not at all. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'svc'])

/** Returns one field value in a form a person reads: strings bare unless they need quotes. */
function show (value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (typeof value === 'string') return value !== '' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`
  if (typeof value === 'object') {
    // pino's error serializer: the message and code say it; the stack is for JSON mode.
    const e = value as { message?: unknown, code?: unknown }
    if (typeof e.message === 'string') return show(typeof e.code === 'string' ? `${e.message} (${e.code})` : e.message)
    return `{${Object.entries(value).map(([k, v]) => `${k}=${show(v)}`).join(' ')}}`
  }
  return String(value)
}

/**
 * Returns the fields of `log` (but those in `skip`) as ` key=value` pairs, leaving out a
 * string field the message already quotes in full (`listening on ADDR` needs no `address=ADDR`).
 */
function fields (log: Record<string, unknown>, skip: ReadonlySet<string>, msg: string): string {
  return Object.entries(log)
    .filter(([k, v]) => !HIDDEN.has(k) && !skip.has(k) && !(typeof v === 'string' && v !== '' && msg.includes(v)))
    .map(([k, v]) => ` ${k}=${show(v)}`).join('')
}

const REQUEST_KEYS = new Set(['method', 'path', 'status', 'durationMs', 'service', 'endpoint'])

/**
 * Returns the message part of a pretty line: the record's `msg` followed by its fields. A
 * message of several lines (the `up` summary) is complete as it is: its fields are not added.
 */
export function prettyMessage (log: Record<string, unknown>): string {
  const msg = typeof log.msg === 'string' ? log.msg : ''
  if (msg.includes('\n')) return msg
  if (msg === 'request' && typeof log.method === 'string') {
    return `${log.method} ${show(log.path)} ${show(log.status)} ${show(log.durationMs)}ms ${show(log.service)} → ${show(log.endpoint)}${fields(log, REQUEST_KEYS, '')}`
  }
  return `${msg}${fields(log, new Set(), msg)}`
}

/**
 * Returns a pino destination that writes each record to `sink` as one pretty line, colored
 * when `colorize` (a terminal that supports it).
 */
export function prettyDestination (sink: { write: (text: string) => unknown }, colorize: boolean): DestinationStream {
  const { isColorSupported, prettyFactory } = require('pino-pretty') as typeof import('pino-pretty')
  const format = prettyFactory({
    colorize: colorize && isColorSupported,
    hideObject: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,svc',
    messageFormat: (log) => prettyMessage(log)
  })
  return { write: (line: string) => { sink.write(format(line)) } }
}
