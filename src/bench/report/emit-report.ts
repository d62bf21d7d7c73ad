import type { BenchReport } from '../report-model.ts'
import { DEFAULT_TERMINAL_WIDTH, renderTerminal } from './report-terminal.ts'
import { writeReport } from './write-report.ts'

/** Returns the default report folder of benchmark `kind`: `bench/results/<kind>-<ISO timestamp without colons>`. */
export function defaultReportDir (kind: BenchReport['kind'], now: Date = new Date()): string {
  return `bench/results/${kind}-${now.toISOString().replace(/:/g, '')}`
}

/**
 * Writes `report` (JSON, Markdown with the full tables, SVG) to `dir`, says where on stderr
 * through `progress`, and prints on stdout the compact tables and the targets in words, fitted
 * to the terminal's width (100 columns when stdout is no terminal), or, with `json`, the JSON.
 * Returns the targets not met.
 */
export async function emitBenchReport (report: BenchReport, dir: string, json: boolean, progress: (line: string) => void): Promise<BenchReport['targets']> {
  const written = await writeReport(report, dir)
  progress(`wrote ${[written.json, written.markdown, written.svg, ...(written.peersSvg === undefined ? [] : [written.peersSvg])].join(', ')}`)
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderTerminal(report, process.stdout.columns ?? DEFAULT_TERMINAL_WIDTH))
  const unmet = report.targets.filter((t) => !t.met)
  if (unmet.length > 0) progress(`${unmet.length} of ${report.targets.length} targets not met`)
  return unmet
}
