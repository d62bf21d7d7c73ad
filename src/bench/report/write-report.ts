/**
 * Writes a benchmark report to a folder (docs/architecture.md#process-model:
 * `report.json` (canonical), `report.md` and `chart.svg` derived from it.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../../internal/atomic-write.ts'
import { SpiffeLbError, quote } from '../../internal/errors.ts'
import type { BenchReport } from '../report-model.ts'
import { renderMarkdown } from './report-markdown.ts'
import { renderSvg } from './report-svg.ts'
import { renderPeerSvg } from './report-svg-peers.ts'
import { renderSoakSvg } from './report-svg-soak.ts'
import { benchError } from '../errors.ts'

/** The files {@link writeReport} wrote, as absolute paths. */
export interface WrittenReport {
  json: string
  markdown: string
  svg: string
  /** `chart-peers.svg`: CPU per request by mode and proxy, when nginx or HAProxy ran. */
  peersSvg?: string
}

function writeFailed (file: string, cause: unknown): SpiffeLbError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return benchError('ERR_SPIFFE_BENCH_WRITE_FAILED',
    `cannot write benchmark report file ${quote(file)}: ${reason}`, { at: file, cause })
}

/** Writes `text` to `file` atomically (internal/atomic-write.ts); a failure is `ERR_SPIFFE_BENCH_WRITE_FAILED`. */
async function writeAtomic (file: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(file, text, 0o644)
  } catch (err) {
    throw writeFailed(file, err)
  }
}

/**
 * Creates `dir` (recursively) and writes `report.json` (2-space JSON), `report.md` and
 * `chart.svg` into it, each atomically. Returns the three paths. Throws
 * `ERR_SPIFFE_BENCH_WRITE_FAILED` naming the folder or file that could not be written.
 */
export async function writeReport (report: BenchReport, dir: string): Promise<WrittenReport> {
  const root = path.resolve(dir)
  try {
    await mkdir(root, { recursive: true })
  } catch (err) {
    throw writeFailed(root, err)
  }
  const written: WrittenReport = {
    json: path.join(root, 'report.json'),
    markdown: path.join(root, 'report.md'),
    svg: path.join(root, 'chart.svg')
  }
  // Render everything first: a rendering bug must not leave a folder with only some new files.
  const markdown = renderMarkdown(report)
  const svg = report.kind === 'soak' ? renderSoakSvg(report) : renderSvg(report)
  const peersSvg = renderPeerSvg(report)
  await writeAtomic(written.json, `${JSON.stringify(report, null, 2)}\n`)
  await writeAtomic(written.markdown, markdown)
  await writeAtomic(written.svg, svg)
  if (peersSvg !== undefined) {
    written.peersSvg = path.join(root, 'chart-peers.svg')
    await writeAtomic(written.peersSvg, peersSvg)
  }
  return written
}
