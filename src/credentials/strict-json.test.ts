import t from 'tap'
import { parseStrictJson } from './strict-json.ts'

const cases: Array<{ name: string, text: string, code?: string, path?: RegExp }> = [
  { name: 'plain object', text: '{"a": 1, "b": {"c": [1, {"d": 2}]}}' },
  { name: 'same key in sibling objects', text: '{"a": {"k": 1}, "b": {"k": 2}}' },
  { name: 'escaped quotes in keys and values', text: '{"a\\"b": "x\\"}", "c": "{\\"a\\": 1}"}' },
  { name: 'top-level duplicate', text: '{"a": 1, "a": 2}', code: 'ERR_SPIFFE_CREDENTIALS_DUPLICATE_KEY', path: /"\$"/ },
  { name: 'nested duplicate', text: '{"trust_domains": {"x.org": {}, "y.org": {}, "x.org": {}}}', code: 'ERR_SPIFFE_CREDENTIALS_DUPLICATE_KEY', path: /\$\.trust_domains/ },
  { name: 'duplicate inside an array element', text: '{"k": [{"a": 1}, {"b": 1, "b": 2}]}', code: 'ERR_SPIFFE_CREDENTIALS_DUPLICATE_KEY', path: /\$\.k\[1\]/ },
  { name: 'escaped duplicate', text: '{"a": 1, "\\u0061": 2}', code: 'ERR_SPIFFE_CREDENTIALS_DUPLICATE_KEY' },
  { name: 'truncated', text: '{"a": {"b": 1}', code: 'ERR_SPIFFE_CREDENTIALS_BAD_JSON' }
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    if (c.code === undefined) {
      t.same(parseStrictJson(c.text, 'x'), JSON.parse(c.text))
    } else {
      t.throws(() => parseStrictJson(c.text, 'file.json'), { code: c.code, at: 'file.json' })
      if (c.path !== undefined) t.throws(() => parseStrictJson(c.text, 'f'), { message: c.path })
    }
  })
}
