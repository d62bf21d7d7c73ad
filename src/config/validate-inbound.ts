import { isAbsolute, resolve } from 'node:path'
import { quote } from '../internal/errors.ts'
import type { HostPort } from '../internal/host-port.ts'
import { SpiffeIdPattern } from '../spiffe/id-pattern.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { CLIENT_CERT_VARIABLES, type ClientCertVariable } from '../enums.ts'
import type { ConfigPath, IssueList } from './issues.ts'
import type { RawConfig } from './schema.ts'
import type { CustomHeaderConfig, HeaderPart, ServerTlsPolicyConfig } from './types.ts'

/** RFC 9110 token characters: what a header name may be made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Names a custom header may not take: they belong to one connection or frame the message. */
const RESERVED = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect'])

/**
 * Returns `frontend.serverTlsPolicy` resolved (undefined when absent); records every rule
 * broken: exactly one of identity and certFile/keyFile, no `frontend.tls` beside it, and each
 * `allowedPeers` entry a trust domain (`example.org`, `spiffe://example.org`) or an ID pattern.
 */
export function resolveServerTlsPolicy (frontend: RawConfig['frontend'], baseDir: string, list: IssueList): ServerTlsPolicyConfig | undefined {
  const raw = frontend.serverTlsPolicy
  if (raw === undefined) return undefined
  const at = ['frontend', 'serverTlsPolicy']
  if (frontend.tls !== undefined) {
    list.add([...at], 'ERR_SPIFFE_CONFIG_SERVER_TLS_WITH_TLS', 'frontend.tls and frontend.serverTlsPolicy cannot both be set: serverTlsPolicy brings its own server certificate')
  }
  const sc = raw.serverCertificate
  const files = sc.certFile !== undefined || sc.keyFile !== undefined
  let serverCertificate: ServerTlsPolicyConfig['serverCertificate'] | undefined
  if (sc.identity !== undefined && files) {
    list.add([...at, 'serverCertificate'], 'ERR_SPIFFE_CONFIG_SERVER_CERTIFICATE', 'give either identity or certFile and keyFile, not both')
  } else if (sc.identity !== undefined) {
    const text = sc.identity.startsWith('//') ? `spiffe:${sc.identity}` : sc.identity
    try {
      serverCertificate = { identity: SpiffeId.fromString(text) }
    } catch (err) {
      list.addError([...at, 'serverCertificate', 'identity'], 'ERR_SPIFFE_CONFIG_SERVER_CERTIFICATE', `identity ${quote(sc.identity)} is not a spiffe id (spiffe://TD/PATH or //TD/PATH)`, err)
    }
  } else if (sc.certFile !== undefined && sc.keyFile !== undefined) {
    const path = (p: string): string => isAbsolute(p) ? p : resolve(baseDir, p)
    serverCertificate = { certFile: path(sc.certFile), keyFile: path(sc.keyFile) }
  } else {
    list.add([...at, 'serverCertificate'], 'ERR_SPIFFE_CONFIG_SERVER_CERTIFICATE',
      files ? 'certFile and keyFile go together; one of them is missing' : 'give identity (an svid from the credential source) or certFile and keyFile')
  }
  const peers = raw.mtlsPolicy.allowedPeers?.flatMap((text, i) => inboundPeer(text, [...at, 'mtlsPolicy', 'allowedPeers', i], list) ?? [])
  if (serverCertificate === undefined) return undefined
  return { serverCertificate, clientValidationMode: raw.mtlsPolicy.clientValidationMode, allowedPeers: peers }
}

/** Returns one allowed peer as a pattern (a trust domain admits `spiffe://TD/**`), or undefined after recording why not. */
function inboundPeer (text: string, at: ConfigPath, list: IssueList): SpiffeIdPattern | undefined {
  const bare = text.startsWith('spiffe://') ? text.slice('spiffe://'.length) : text
  try {
    if (!bare.includes('/')) return SpiffeIdPattern.parse(`spiffe://${TrustDomain.fromString(bare).name}/**`)
    return SpiffeIdPattern.parse(text)
  } catch (err) {
    list.addError(at, 'ERR_SPIFFE_CONFIG_INBOUND_PEER', 'not a trust domain or spiffe id pattern', err)
    return undefined
  }
}

/**
 * Returns `customRequestHeaders` parsed (`"Name:value"`, the cloud's form): the name a token
 * and not a connection header, the value's `{variable}`s known ({@link CLIENT_CERT_VARIABLES}),
 * `{{` and `}}` literal braces; records each broken entry.
 */
export function parseCustomHeaders (raw: readonly string[] | undefined, at: ConfigPath, list: IssueList): CustomHeaderConfig[] {
  const out: CustomHeaderConfig[] = []
  for (const [i, entry] of (raw ?? []).entries()) {
    const fail = (why: string): void => { list.add([...at, i], 'ERR_SPIFFE_CONFIG_CUSTOM_HEADER', `${why}, got ${quote(entry)}`) }
    const colon = entry.indexOf(':')
    const name = colon < 0 ? '' : entry.slice(0, colon).trim()
    if (colon < 0) { fail('expected "Name:value"'); continue }
    if (!TOKEN.test(name)) { fail(`header name ${quote(name)} is not an http token`); continue }
    if (RESERVED.has(name.toLowerCase()) || name.toLowerCase().startsWith('proxy-')) { fail(`header ${quote(name)} belongs to the connection and cannot be set`); continue }
    const parts = parseTemplate(entry.slice(colon + 1).trim())
    if (typeof parts === 'string') { fail(parts); continue }
    out.push({ name: name.toLowerCase(), parts })
  }
  return out
}

/** Returns the pieces of a header value template, or why it is broken. */
function parseTemplate (value: string): HeaderPart[] | string {
  const parts: HeaderPart[] = []
  let text = ''
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if ((c === '{' || c === '}') && value[i + 1] === c) { text += c; i++; continue }
    if (c === '}') return 'a lone "}" (write "}}" for a literal brace)'
    if (c !== '{') { text += c; continue }
    const end = value.indexOf('}', i)
    if (end < 0) return 'an unclosed "{"'
    const variable = value.slice(i + 1, end)
    if (!(CLIENT_CERT_VARIABLES as readonly string[]).includes(variable)) return `unknown variable {${variable}}`
    if (text !== '') parts.push({ text })
    text = ''
    parts.push({ variable: variable as ClientCertVariable })
    i = end
  }
  if (text !== '') parts.push({ text })
  return parts
}

/**
 * Records `protocol: HTTP` rules: cleartext is allowed only behind an inbound mTLS frontend
 * (`inbound`), and only to loopback endpoints (the application on the same host).
 */
export function checkCleartext (endpoints: ReadonlyArray<{ endpoint: HostPort, at: ConfigPath }>, at: ConfigPath, inbound: boolean, list: IssueList): void {
  if (!inbound) {
    list.add([...at, 'protocol'], 'ERR_SPIFFE_CONFIG_PROTOCOL_CLEARTEXT',
      'protocol "HTTP" is cleartext: without frontend.serverTlsPolicy the proxy proves its SVID and verifies the backend\'s only inside a TLS handshake, so use HTTPS (HTTP/1.1) or HTTP2 over mTLS')
    return
  }
  for (const e of endpoints) {
    if (!isLoopback(e.endpoint.host)) {
      list.add(e.at, 'ERR_SPIFFE_CONFIG_CLEARTEXT_ENDPOINT', `protocol "HTTP" forwards cleartext, so its endpoints must be on loopback (127.0.0.0/8, ::1, localhost), got ${quote(e.endpoint.host)}`)
    }
  }
}

/** Returns true for a loopback host: 127.0.0.0/8, ::1 or localhost. */
function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
