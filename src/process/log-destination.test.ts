import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { LOG_MIN_WRITE_BYTES } from '../defaults.ts'
import { bufferedLogDestination } from './log-destination.ts'

async function destinationFile (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ fd: number, read: () => string }> {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-log-'))
  const file = join(dir, 'log')
  const fd = openSync(file, 'w')
  t.teardown(async () => { closeSync(fd); await rm(dir, { recursive: true, force: true }) })
  return { fd, read: () => readFileSync(file, 'utf8') }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5)) }

t.test('lines wait until 4 KiB gathered or a flush, then leave in order, whole', async (t) => {
  const { fd, read } = await destinationFile(t)
  const d = bufferedLogDestination(fd)
  t.teardown(() => { d.close() })
  d.stream.write('{"n":1}\n')
  d.stream.write('{"n":2,"é":"😀"}\n')
  await settle()
  t.equal(read(), '', 'a few short lines stay buffered')
  d.flush()
  await settle()
  t.equal(read(), '{"n":1}\n{"n":2,"é":"😀"}\n', 'a flush writes them, multi-byte characters intact')
  const line = `${JSON.stringify({ pad: 'x'.repeat(200) })}\n`
  const count = Math.ceil(LOG_MIN_WRITE_BYTES / line.length)
  for (let i = 0; i < count; i++) d.stream.write(line)
  await settle()
  t.equal(read().length, '{"n":1}\n{"n":2,"é":"😀"}\n'.length + count * line.length, 'past 4 KiB the lines go without a flush')
})

t.test('close writes what is buffered synchronously; later lines still reach the file', async (t) => {
  const { fd, read } = await destinationFile(t)
  const d = bufferedLogDestination(fd)
  d.stream.write('a\n')
  d.close()
  t.equal(read(), 'a\n', 'written before close returns')
  d.close()
  d.stream.write('b\n')
  await settle()
  t.equal(read(), 'a\nb\n')
})

t.test('a batch for a regular file is written before write returns; a pipe still gets every line', async (t) => {
  const line = `${JSON.stringify({ pad: 'y'.repeat(200) })}\n`
  const count = Math.ceil(LOG_MIN_WRITE_BYTES / line.length)
  const file = await destinationFile(t)
  const d = bufferedLogDestination(file.fd)
  t.teardown(() => { d.close() })
  for (let i = 0; i < count; i++) d.stream.write(line)
  t.equal(file.read().length, count * line.length, 'the file has the batch with no turn of the event loop')

  // A pipe's reader may lag, so its writes stay asynchronous: they must still all arrive.
  const { spawn } = await import('node:child_process')
  const cat = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] })
  const fd = (cat.stdin as unknown as { _handle: { fd: number } })._handle.fd
  let got = ''
  cat.stdout.setEncoding('utf8').on('data', (s: string) => { got += s })
  const p = bufferedLogDestination(fd)
  for (let i = 0; i < count; i++) p.stream.write(line)
  p.flush()
  for (let i = 0; i < 200 && got.length < count * line.length; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(got.length, count * line.length, 'the pipe delivered every line')
  p.close()
  cat.stdin.end()
  await new Promise((resolve) => cat.once('close', resolve))
})

t.test('an output that cannot be written: one stderr line with the code, no throw, the caller goes on', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-log-'))
  const file = join(dir, 'log')
  closeSync(openSync(file, 'w'))
  const fd = openSync(file, 'r') // a regular file, so writes are synchronous, and each fails (EBADF)
  t.teardown(async () => { closeSync(fd); await rm(dir, { recursive: true, force: true }) })
  const said: string[] = []
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((s: string) => { said.push(String(s)); return true }) as typeof process.stderr.write
  t.teardown(() => { process.stderr.write = write })
  const d = bufferedLogDestination(fd)
  const line = `${JSON.stringify({ pad: 'z'.repeat(200) })}\n`
  const count = 3 * Math.ceil(LOG_MIN_WRITE_BYTES / line.length)
  t.doesNotThrow(() => { for (let i = 0; i < count; i++) d.stream.write(line) }, 'three failed batches reach no caller')
  d.flush()
  t.doesNotThrow(() => { d.close() }, 'nor does closing')
  t.equal(said.length, 1, 'one line, not one per batch')
  t.match(said[0], /^spiffe-lb: log output \(fd \d+\) cannot be written: EBADF; .*\(ERR_SPIFFE_CLI_LOG_OUTPUT\)\n$/)
  t.equal(readFileSync(file, 'utf8'), '', 'nothing was written')
})

t.test('a pipe whose reader is gone: one stderr line, and closing returns at once', async (t) => {
  const { spawn } = await import('node:child_process')
  // A reader that closes its end of the pipe and lives on: writes then fail with EPIPE.
  const cat = spawn('sh', ['-c', 'exec 0<&-; echo closed; exec sleep 30'], { stdio: ['pipe', 'pipe', 'ignore'] })
  const fd = (cat.stdin as unknown as { _handle: { fd: number } })._handle.fd
  await new Promise((resolve) => cat.stdout.once('data', resolve))
  t.teardown(() => { cat.kill('SIGKILL') })
  const said: string[] = []
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((s: string) => { said.push(String(s)); return true }) as typeof process.stderr.write
  t.teardown(() => { process.stderr.write = write; cat.stdin.destroy() })
  const d = bufferedLogDestination(fd)
  const line = `${JSON.stringify({ pad: 'p'.repeat(200) })}\n`
  for (let i = 0; i < Math.ceil(LOG_MIN_WRITE_BYTES / line.length); i++) d.stream.write(line)
  for (let i = 0; i < 100 && said.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  d.stream.write(line)
  d.close() // returns: a non-retryable error ends the exit flush
  d.stream.write(line)
  t.equal(said.length, 1, 'one line for the whole episode')
  t.match(said[0], /^spiffe-lb: log output \(fd \d+\) cannot be written: EPIPE; .*\(ERR_SPIFFE_CLI_LOG_OUTPUT\)\n$/)
})
