/**
 * `npm run docs`: writes docs/errors.md and docs/metrics.md from their sources (see docs.ts).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { METRICS } from '../src/admin/metric-definitions.ts'
import { ROOT, loadRegistries, renderErrorsDoc, renderMetricsDoc } from './docs.ts'

writeFileSync(join(ROOT, 'docs', 'errors.md'), renderErrorsDoc(await loadRegistries()))
writeFileSync(join(ROOT, 'docs', 'metrics.md'), renderMetricsDoc(Object.values(METRICS)))
process.stdout.write('wrote docs/errors.md and docs/metrics.md\n')
