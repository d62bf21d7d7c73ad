/**
 * A reader of the Prometheus text exposition the admin listener itself writes (`/metrics`): the
 * dashboard samples that text so a single process and a cluster primary (whose exposition is
 * merged from its workers) are read the same way.
 */

/** One sample line: metric name, labels and value. */
export interface PromSample { name: string, labels: Record<string, string>, value: number }

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** Returns every sample line of `text` (comments and blank lines skipped; unparsable lines too). */
export function parsePromText (text: string): PromSample[] {
  const out: PromSample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = LINE.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(LABEL)) {
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, (_, c: string) => c === 'n' ? '\n' : c)
    }
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) })
  }
  return out
}
