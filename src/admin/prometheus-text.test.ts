import t from 'tap'
import { parsePromText } from './prometheus-text.ts'

t.test('reads names, escaped label values and values; skips comments', async (t) => {
  const text = [
    '# HELP x_total help',
    '# TYPE x_total counter',
    'x_total{service="a",code="502",endpoint="[::1]:8443"} 3',
    'y_bucket{le="+Inf",msg="say \\"hi\\"\\\\"} 7',
    'z 1.5',
    ''
  ].join('\n')
  t.same(parsePromText(text), [
    { name: 'x_total', labels: { service: 'a', code: '502', endpoint: '[::1]:8443' }, value: 3 },
    { name: 'y_bucket', labels: { le: '+Inf', msg: 'say "hi"\\' }, value: 7 },
    { name: 'z', labels: {}, value: 1.5 }
  ])
})
