import t from 'tap'
import { encodeGrpcMessage, grpcStatusFor, isGrpcRequest } from './grpc-status.ts'

t.test('gRPC requests are told by content-type', async (t) => {
  for (const [type, grpc] of [['application/grpc', true], ['application/grpc+proto', true], ['application/grpc-web', false], ['application/json', false], [undefined, false]] as const) {
    t.equal(isGrpcRequest(type === undefined ? {} : { 'content-type': type }), grpc, String(type))
  }
})

t.test('HTTP outcomes map to gRPC codes', async (t) => {
  for (const [http, grpc] of [[504, 4], [502, 14], [503, 14], [404, 12], [400, 13]] as const) t.equal(grpcStatusFor(http), grpc, String(http))
})

t.test('grpc-message is percent-encoded', async (t) => {
  t.equal(encodeGrpcMessage('backend "x" 100% ✓\n'), 'backend "x" 100%25 %E2%9C%93%0A')
})
