import t from 'tap'
import { isReadyMessage } from './ready-message.ts'

t.test('isReadyMessage accepts exactly the announced shape', async (t) => {
  const cases: Array<[string, unknown, boolean]> = [
    ['serve with admin', { type: 'spiffe-lb:ready', command: 'serve', address: '127.0.0.1:8080', admin: '127.0.0.1:9901' }, true],
    ['backend over IPv6', { type: 'spiffe-lb:ready', command: 'backend', address: '[::1]:9443' }, true],
    ['another type', { type: 'spiffe-lb:init', command: 'serve', address: '127.0.0.1:1' }, false],
    ['unknown command', { type: 'spiffe-lb:ready', command: 'agent', address: '127.0.0.1:1' }, false],
    ['address without port', { type: 'spiffe-lb:ready', command: 'backend', address: '127.0.0.1' }, false],
    ['admin not text', { type: 'spiffe-lb:ready', command: 'serve', address: '127.0.0.1:1', admin: 9901 }, false],
    ['not an object', 'spiffe-lb:ready', false],
    ['null', null, false]
  ]
  for (const [name, value, ok] of cases) t.equal(isReadyMessage(value), ok, name)
})
