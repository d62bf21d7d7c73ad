const PEM_KEY = /^( *)(- )?pemCertificate: *\|[-+]? *$/

/**
 * Returns `text` with under-indented PEM block scalars re-indented. The documentation's
 * `gcloud iam workload-identity-pools describe` output (seeds) prints
 *
 * ```yaml
 *           - pemCertificate: |-
 *             -----BEGIN CERTIFICATE-----
 * ```
 *
 * with the PEM at the column of its key, which YAML rejects; users paste exactly that. Only a
 * complete `-----BEGIN …-----` … `-----END …-----` run right after a `pemCertificate: |-` key,
 * indented no deeper than the key, is moved: such text can never be valid YAML as it stands,
 * so valid input is never changed.
 */
export function repairPastedPemBlocks (text: string): string {
  if (!text.includes('-----BEGIN ')) return text
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const key = PEM_KEY.exec(lines[i] ?? '')
    if (key === null) continue
    const keyColumn = (key[1] ?? '').length + (key[2] ?? '').length
    const first = lines[i + 1] ?? ''
    if (!first.trimStart().startsWith('-----BEGIN ') || indentOf(first) > keyColumn) continue
    let end = i + 1
    while (end < lines.length && !(lines[end] ?? '').trimStart().startsWith('-----END ')) end++
    if (end >= lines.length) continue
    const pad = ' '.repeat(keyColumn + 2)
    for (let j = i + 1; j <= end; j++) lines[j] = pad + (lines[j] ?? '').trimStart()
    i = end
  }
  return lines.join('\n')
}

function indentOf (line: string): number {
  return line.length - line.trimStart().length
}
