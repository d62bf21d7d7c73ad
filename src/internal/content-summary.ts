/** PEM labels are capital letters, digits and spaces (RFC 7468): safe to name in an error. */
const LABEL = /-----BEGIN ([A-Z0-9 ]{1,40})-----/g

/**
 * Returns what an error may say about credential content without quoting any of it: its size
 * and the labels of the PEM blocks it holds, e.g. `241 bytes, pem blocks: "PRIVATE KEY"`.
 * Credential files hold private keys, and a path pointed at the wrong file may hold anything
 * (`/etc/passwd`), so no byte of the content itself ever reaches a message, log or `/status`
 * (docs/architecture.md#security-model).
 */
export function describeContent (text: string): string {
  const labels = [...new Set([...text.matchAll(LABEL)].map((m) => m[1] ?? ''))]
  const size = `${Buffer.byteLength(text)} bytes`
  if (labels.length === 0) return `${size}, no pem block`
  return `${size}, pem blocks: ${labels.slice(0, 4).map((l) => `"${l}"`).join(', ')}${labels.length > 4 ? ', …' : ''}`
}
