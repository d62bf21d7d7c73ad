/**
 * Just enough of RFC 6455 framing for the proxy to speak once on a relayed WebSocket: where the
 * frames of the backend's byte stream begin and end (section 5.2), and a Close frame of its own
 * (section 5.5.1). The relay never parses payloads; it only needs to know that a Close frame it
 * writes would not land in the middle of a frame the backend started.
 */

/** Follows the server-to-client bytes of an upgraded connection (after the 101 head), frame by frame. */
export class FrameBoundary {
  /** Header bytes of the frame being read, until its length is known. */
  #header: number[] = []
  /** Payload bytes of the current frame still to come. */
  #payloadLeft = 0

  /** Feeds the next chunk the backend sent towards the client. */
  feed (chunk: Buffer): void {
    let i = 0
    while (i < chunk.length) {
      if (this.#payloadLeft > 0) {
        const take = Math.min(this.#payloadLeft, chunk.length - i)
        this.#payloadLeft -= take
        i += take
        continue
      }
      this.#header.push(chunk[i] as number)
      i++
      const length = payloadLength(this.#header)
      if (length !== undefined) { this.#payloadLeft = length; this.#header = [] }
    }
  }

  /** True when no frame is half sent: a new frame may start here. */
  get atBoundary (): boolean {
    return this.#header.length === 0 && this.#payloadLeft === 0
  }
}

/** Returns the payload length once `header` holds a whole frame header, else undefined. */
function payloadLength (header: readonly number[]): number | undefined {
  if (header.length < 2) return undefined
  const second = header[1] as number
  const short = second & 0x7f
  const extended = short === 126 ? 2 : short === 127 ? 8 : 0
  const size = 2 + extended + ((second & 0x80) !== 0 ? 4 : 0)
  if (header.length < size) return undefined
  if (extended === 0) return short
  let length = 0
  for (let k = 2; k < 2 + extended; k++) length = length * 256 + (header[k] as number)
  return length
}

/** Returns an unmasked (server-to-client) Close frame with `code` and `reason` (cut to fit 125 bytes). */
export function closeFrame (code: number, reason: string): Buffer {
  let text = Buffer.from(reason, 'utf8')
  if (text.length > 123) {
    // Cut on a character boundary: a close reason must be valid UTF-8.
    let end = 123
    while (end > 0 && ((text[end] as number) & 0xc0) === 0x80) end--
    text = text.subarray(0, end)
  }
  const frame = Buffer.alloc(4 + text.length)
  frame[0] = 0x88 // FIN + opcode 8 (Close)
  frame[1] = 2 + text.length
  frame.writeUInt16BE(code, 2)
  text.copy(frame, 4)
  return frame
}
