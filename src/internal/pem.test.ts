import t from 'tap'
import { parsePem, toPem } from './pem.ts'

t.test('round-trips blocks and ignores text between them', async (t) => {
  const a = toPem('CERTIFICATE', Buffer.from('hello'))
  const b = toPem('PRIVATE KEY', Buffer.alloc(100, 7))
  const blocks = parsePem(`subject=foo\n${a}junk\n${b}`)
  t.same(blocks.map((x) => x.type), ['CERTIFICATE', 'PRIVATE KEY'])
  t.equal(blocks[0]?.der.toString(), 'hello')
  t.same(blocks[1]?.der, Buffer.alloc(100, 7))
})

const bad: Array<[string, string, string]> = [
  ['truncated', '-----BEGIN CERTIFICATE-----\nAAAA\n', 'ERR_SPIFFE_PEM_TRUNCATED'],
  ['label mismatch', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n', 'ERR_SPIFFE_PEM_LABEL_MISMATCH'],
  ['bad base64', '-----BEGIN CERTIFICATE-----\nA$AA\n-----END CERTIFICATE-----\n', 'ERR_SPIFFE_PEM_BAD_BASE64'],
  ['empty body', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', 'ERR_SPIFFE_PEM_BAD_BASE64'],
  ['encrypted', '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----\n', 'ERR_SPIFFE_PEM_ENCRYPTED']
]
for (const [name, text, code] of bad) {
  t.test(`rejects ${name}`, async (t) => {
    t.throws(() => parsePem(text, 'x.pem'), { code, at: 'x.pem' })
  })
}

t.test('returns no blocks for text without pem', async (t) => {
  t.same(parsePem('nothing here'), [])
})
