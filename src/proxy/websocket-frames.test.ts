import t from 'tap'
import { FrameBoundary, closeFrame } from './websocket-frames.ts'

/** An unmasked server frame with a `length`-byte payload. */
function frame (length: number): Buffer {
  const ext = length < 126 ? [length] : length < 65536 ? [126, length >> 8, length & 0xff] : [127, 0, 0, 0, 0, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]
  return Buffer.concat([Buffer.from([0x82, ...ext]), Buffer.alloc(length, 7)])
}

t.test('boundaries between frames of every length form, fed whole or byte by byte', async (t) => {
  const stream = Buffer.concat([frame(5), frame(300), frame(70_000)])
  const whole = new FrameBoundary()
  t.ok(whole.atBoundary, 'at a boundary before the first frame')
  whole.feed(stream)
  t.ok(whole.atBoundary, 'at a boundary after whole frames')
  const bytes = new FrameBoundary()
  const ends = new Set([7, 7 + 304, stream.length])
  let wrong = 0
  for (let i = 0; i < stream.length; i++) {
    bytes.feed(stream.subarray(i, i + 1))
    if (bytes.atBoundary !== ends.has(i + 1)) wrong++
  }
  t.equal(wrong, 0, 'a boundary exactly after each frame')
  const partial = new FrameBoundary()
  partial.feed(frame(300).subarray(0, 100))
  t.notOk(partial.atBoundary, 'not in the middle of a frame')
  const masked = new FrameBoundary()
  masked.feed(Buffer.from([0x81, 0x83, 1, 2, 3, 4, 9, 9]))
  t.notOk(masked.atBoundary, 'a masked frame counts its key')
  masked.feed(Buffer.from([9]))
  t.ok(masked.atBoundary)
})

t.test('a close frame carries the code and a reason cut on a character boundary', async (t) => {
  const f = closeFrame(1008, 'backend no longer trusted')
  t.same([...f.subarray(0, 4)], [0x88, 27, 0x03, 0xf0])
  t.equal(f.subarray(4).toString(), 'backend no longer trusted')
  const long = closeFrame(1011, 'é'.repeat(100))
  t.ok(long.length <= 127, 'fits a control frame')
  t.equal(long.subarray(4).toString('utf8'), 'é'.repeat(61), 'whole characters only')
})
