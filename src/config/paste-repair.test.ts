import t from 'tap'
import { parse } from 'yaml'
import { repairPastedPemBlocks } from './paste-repair.ts'

const PEM = ['-----BEGIN CERTIFICATE-----', 'AAAA', '-----END CERTIFICATE-----']

t.test('under-indented PEM blocks after a pemCertificate key are re-indented', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['list item, block at key column', `trustAnchors:\n- pemCertificate: |-\n  ${PEM.join('\n  ')}\n- pemCertificate: |-\n  ${PEM.join('\n  ')}`,
      `trustAnchors:\n- pemCertificate: |-\n    ${PEM.join('\n    ')}\n- pemCertificate: |-\n    ${PEM.join('\n    ')}`],
    ['plain key, block at key column', `a:\n  pemCertificate: |\n  ${PEM.join('\n  ')}\n  b: 1`,
      `a:\n  pemCertificate: |\n    ${PEM.join('\n    ')}\n  b: 1`]
  ]
  for (const [what, input, want] of cases) {
    t.throws(() => parse(input), `${what}: the input is not YAML as it stands`)
    t.equal(repairPastedPemBlocks(input), want, what)
    t.doesNotThrow(() => parse(repairPastedPemBlocks(input)), `${what}: repaired`)
  }
})

t.test('anything else is left alone', async (t) => {
  const cases = [
    `- pemCertificate: |-\n    ${PEM.join('\n    ')}\n`, // already valid
    `- pemCertificate: "${PEM.join('\\n')}"\n`, // quoted one-liner
    `- pemCertificate: |-\n  -----BEGIN CERTIFICATE-----\n  AAAA\n`, // no END line
    'project: { id: demo-project }\n' // no PEM at all
  ]
  for (const input of cases) t.equal(repairPastedPemBlocks(input), input, JSON.stringify(input).slice(0, 40))
})
