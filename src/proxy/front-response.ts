/**
 * A frontend response (lean path, node:http's ServerResponse or HTTP/2's compatibility
 * response): what the exchange and the proxy use of it, which all three provide.
 */
export interface FrontResponse {
  statusCode: number
  readonly headersSent: boolean
  readonly writableEnded: boolean
  readonly destroyed: boolean
  setHeader (name: string, value: string | number | readonly string[]): unknown
  addTrailers (trailers: Record<string, string>): void
  end (): unknown
  end (chunk: string): unknown
  destroy (err?: Error): unknown
  on (event: 'close', listener: () => void): unknown
  once (event: 'close' | 'drain', listener: () => void): unknown
}
