import { fileStateView } from '../../control/disk-state-view.ts'
import { describeResources, loadConfigFile, readDeriveInputs, toYaml, type ControlPlaneStateView } from '../../config/index.ts'
import { isSpiffeLbError } from '../../internal/errors.ts'
import { writeIssues } from '../../runtime/config-check.ts'
import type { CommandOutput } from '../../process/command-output.ts'
import { EXIT } from '../../process/command-output.ts'

/** Options of {@link runDescribe}. */
export interface DescribeCommandOptions {
  config: string
  kind?: string | undefined
  name?: string | undefined
  /** What the control plane created at run time; default: the files in the state directory. */
  view?: ControlPlaneStateView
}

/**
 * `spiffe-lb describe -c FILE [KIND [NAME]]`: prints the resources of a config, the derived ones
 * included, as the YAML `gcloud … describe` prints; several resources as a multi-document
 * stream. Returns the exit code: 0, or 2 for a bad config, kind or name.
 */
export async function runDescribe (opts: DescribeCommandOptions, out: CommandOutput): Promise<number> {
  const result = await loadConfigFile(opts.config)
  if (!result.ok) {
    writeIssues(opts.config, result.errors, out)
    return EXIT.USAGE
  }
  try {
    const inputs = await readDeriveInputs(result.config, opts.view ?? fileStateView(result.config))
    const resources = describeResources(result.config, {
      ...(opts.kind === undefined ? {} : { kind: opts.kind }),
      ...(opts.name === undefined ? {} : { name: opts.name }),
      inputs
    })
    out.stdout.write(resources.map((r) => toYaml(r.body)).join('---\n'))
    return EXIT.OK
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    out.stderr.write(`spiffe-lb describe: ${err.message} (${err.code})\n`)
    return EXIT.USAGE
  }
}
