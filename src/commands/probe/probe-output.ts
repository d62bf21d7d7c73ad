import type { ProbeReport } from '../../tls/probe.ts'
import { verdictLines } from '../verdict-lines.ts'

const ms = (v: number | undefined): string => v === undefined ? '-' : `${v.toFixed(1)} ms`

/** Returns the human-readable report of `probe`, ending with the verdict in `verify`'s words. */
export function renderProbeReport (r: ProbeReport): string {
  const lines: string[] = [`probe ${r.target}`]
  lines.push(`  tcp connect:    ${ms(r.tcpMs)}`)
  if (r.tls !== undefined) {
    lines.push(`  tls handshake:  ${ms(r.handshakeMs)}`)
    lines.push(`  tls:            ${r.tls.version}, group ${r.tls.group ?? '-'}, cipher ${r.tls.cipher}, alpn ${r.tls.alpn ?? '-'}`)
  }
  if (r.chain.length > 0) {
    lines.push('  chain as presented:')
    r.chain.forEach((c, i) => {
      lines.push(`    [${i}] ${c.subject === '' ? '(empty subject)' : c.subject}${c.isCa ? ' (CA)' : ''}`)
      if (c.spiffeId !== undefined) lines.push(`        spiffe id: ${c.spiffeId}`)
      lines.push(`        issuer:    ${c.issuer}`)
      lines.push(`        validity:  ${c.notBefore} .. ${c.notAfter}`)
      lines.push(`        key:       ${c.keyAlgorithm}`)
    })
  } else if (r.connected) {
    lines.push('  chain as presented: (none)')
  }
  if (r.trustDomain !== undefined) lines.push(`  trust domain:   ${r.trustDomain}`)
  lines.push(r.bundle === undefined
    ? '  bundle used:    (none)'
    : `  bundle used:    ${r.bundle.trustDomain} (${r.bundle.authorities.join('; ')})`)
  const cr = r.clientCertificateRequest
  if (cr !== undefined) {
    lines.push(`  client cert:    ${cr.requested ? `requested${cr.caNames.length === 0 ? ' (no CA names given)' : `, CA names: ${cr.caNames.join('; ')}`}` : 'not requested (the backend does not ask for our svid)'}`)
  }
  if (r.http !== undefined) lines.push(`  http answer:    ${r.http.status} ${r.http.reason}`)
  if (r.connectionError !== undefined) {
    lines.push(`  connection:     ${r.connectionError.stage === 'connect' ? 'tcp connect' : 'tls handshake'} failed (${r.connectionError.code ?? 'no code'}): ${r.connectionError.message}`)
  }
  if (r.refusedUs !== undefined && r.connected) {
    lines.push(`  backend refused our certificate: ${r.refusedUs.alert === undefined ? r.refusedUs.message : `alert "${r.refusedUs.alert}"`}`)
  } else if (r.refusedUs?.alert !== undefined) {
    lines.push(`  backend refused our certificate: alert "${r.refusedUs.alert}"`)
  }
  if (r.resumption !== undefined) {
    lines.push(`  resumption:     ${r.resumption.resumed ? 'a second connection resumed the session' : r.resumption.offered ? 'a second connection did NOT resume the session' : 'no session was offered by the backend'}`)
  }
  lines.push(...verdictLines(r.failures, r.spiffeId))
  return `${lines.join('\n')}\n`
}
