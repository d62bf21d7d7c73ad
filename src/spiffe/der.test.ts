import t from 'tap'
import { children, readBits, readBoolean, readElement, readOid, readOne, readSmallInteger } from './der.ts'
import { readGeneralName } from './general-name.ts'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

t.test('reads short and long form lengths', async (t) => {
  const short = readOne(hex('04 03 010203'))
  t.same([...short.value], [1, 2, 3])
  const long = readOne(Buffer.concat([hex('04 81 80'), Buffer.alloc(128, 9)]))
  t.equal(long.value.length, 128)
  const two = readOne(Buffer.concat([hex('04 82 0100'), Buffer.alloc(256, 1)]))
  t.equal(two.value.length, 256)
})

t.test('walks constructed elements', async (t) => {
  const seq = readOne(hex('30 06 0101ff 020105'))
  const [a, b] = children(seq)
  t.equal(readBoolean(a!), true)
  t.equal(readSmallInteger(b!), 5)
  t.equal(readElement(hex('0500 0500'), 2).next, 4)
})

t.test('decodes object identifiers', async (t) => {
  const cases: Array<[string, string]> = [
    ['06 03 551d11', '2.5.29.17'],
    ['06 08 2b06010505070301', '1.3.6.1.5.5.7.3.1'],
    ['06 04 551d2500', '2.5.29.37.0'],
    ['06 03 883701', '2.999.1'],
    ['06 09 2a864886f70d01010b', '1.2.840.113549.1.1.11']
  ]
  for (const [der, oid] of cases) t.equal(readOid(readOne(hex(der))), oid)
})

t.test('decodes named bit strings, bit 0 first', async (t) => {
  // keyUsage digitalSignature only: 03 02 07 80
  t.same(readBits(readOne(hex('03 02 07 80'))), [true])
  // keyCertSign + cRLSign: 03 02 01 06 -> bits 5 and 6
  t.same(readBits(readOne(hex('03 02 01 06'))), [false, false, false, false, false, true, true])
  // decipherOnly (bit 8) needs two octets
  t.equal(readBits(readOne(hex('03 03 07 0080')))[8], true)
})

t.test('decodes general names', async (t) => {
  t.same(readGeneralName(readOne(hex('86 05 782f792f7a'))), { kind: 'uri', value: 'x/y/z' })
  t.same(readGeneralName(readOne(hex('82 03 612e62'))), { kind: 'dns', value: 'a.b' })
  t.same(readGeneralName(readOne(hex('87 04 7f000001'))), { kind: 'ip', value: '127.0.0.1' })
  t.same(readGeneralName(readOne(hex('87 08 0a000000ff000000'))), { kind: 'ip', value: '10.0.0.0/255.0.0.0' })
  // non-ASCII bytes stay visible as one character each
  t.same(readGeneralName(readOne(hex('86 02 c3a4'))), { kind: 'uri', value: '\u00c3\u00a4' })
  t.throws(() => readGeneralName(readOne(hex('04 00'))), { code: 'ERR_SPIFFE_DER_MALFORMED' })
})

const malformed: Array<[string, string]> = [
  ['truncated header', '04'],
  ['content past the end', '04 05 0102'],
  ['indefinite length', '30 80 0000'],
  ['long form for a short length', '04 81 05 0102030405'],
  ['length with a leading zero', '04 82 0005 0102030405'],
  ['five length octets', '04 85 0000000001 00'],
  ['high tag number', '1f 81 00 00'],
  ['trailing bytes', '05 00 00'],
  ['primitive treated as constructed', 'children:04 00'],
  ['boolean other than 00/ff', 'bool:01 01 01'],
  ['negative integer', 'int:02 01 80'],
  ['empty integer', 'int:02 00'],
  ['oid ending mid-arc', 'oid:06 02 2a86'],
  ['oid arc with leading zero', 'oid:06 03 2a8001'],
  ['bit string with 8 unused bits', 'bits:03 02 08 00'],
  ['empty bit string with unused bits', 'bits:03 01 01'],
  ['wrong tag', 'oid:04 01 00']
]

for (const [name, spec] of malformed) {
  t.test(`rejects ${name}`, async (t) => {
    const [kind, der] = spec.includes(':') ? spec.split(':') as [string, string] : ['one', spec]
    const run = (): unknown => {
      const buf = hex(der)
      switch (kind) {
        case 'children': return children(readOne(buf))
        case 'bool': return readBoolean(readOne(buf))
        case 'int': return readSmallInteger(readOne(buf))
        case 'oid': return readOid(readOne(buf))
        case 'bits': return readBits(readOne(buf))
        default: return readOne(buf)
      }
    }
    t.throws(run, { code: 'ERR_SPIFFE_DER_MALFORMED' })
  })
}
