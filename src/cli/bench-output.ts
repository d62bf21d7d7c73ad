import type { BenchReport } from '../bench/report.ts'
import { renderMarkdown } from '../bench/report-markdown.ts'
import { writeReport } from '../bench/write-report.ts'

/**
 * Writes `report` (JSON, Markdown, SVG) to `dir`, says where on stderr through `progress`, and
 * prints the Markdown (or, with `json`, the JSON) on stdout. Returns the targets not met.
 */
export async function emitBenchReport (report: BenchReport, dir: string, json: boolean, progress: (line: string) => void): Promise<BenchReport['targets']> {
  const written = await writeReport(report, dir)
  progress(`wrote ${written.json}, ${written.markdown}, ${written.svg}`)
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report))
  const unmet = report.targets.filter((t) => !t.met)
  if (unmet.length > 0) progress(`${unmet.length} of ${report.targets.length} targets not met`)
  return unmet
}
