/**
 * gRPC-shaped answers for outcomes the proxy itself produces (timeout, unreachable or refused
 * backend) when the client speaks gRPC: an HTTP 200 whose trailers carry `grpc-status` and a
 * percent-encoded `grpc-message` (gRPC over HTTP/2 protocol, "Responses"), so a gRPC client
 * sees a status code and our reason rather than a bare 502 page.
 */
import type { IncomingHttpHeaders } from 'node:http'

/** gRPC status codes the proxy answers with. */
export const GRPC_STATUS = { INTERNAL: 13, UNAVAILABLE: 14, DEADLINE_EXCEEDED: 4, UNIMPLEMENTED: 12 } as const

/** Returns true when the request opened a gRPC call (`content-type: application/grpc…`). */
export function isGrpcRequest (headers: IncomingHttpHeaders): boolean {
  return isGrpcContentType(headers['content-type'])
}

/** Returns true when `type` (a Content-Type value) is gRPC's: `application/grpc`, `+proto` and the like. */
export function isGrpcContentType (type: string | undefined): boolean {
  return typeof type === 'string' && /^application\/grpc(?:$|[+;])/i.test(type)
}

/** Returns the gRPC status for the HTTP status the proxy would have sent. */
export function grpcStatusFor (httpStatus: number): number {
  if (httpStatus === 504) return GRPC_STATUS.DEADLINE_EXCEEDED
  if (httpStatus === 502 || httpStatus === 503) return GRPC_STATUS.UNAVAILABLE
  if (httpStatus === 404) return GRPC_STATUS.UNIMPLEMENTED
  return GRPC_STATUS.INTERNAL
}

/** Returns `message` percent-encoded as `grpc-message` requires (bytes outside 0x20–0x7E, and `%`). */
export function encodeGrpcMessage (message: string): string {
  let out = ''
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Returns the trailers that end a call with `status` and `message`. */
export function grpcTrailers (status: number, message: string): Record<string, string> {
  return { 'grpc-status': String(status), 'grpc-message': encodeGrpcMessage(message) }
}
