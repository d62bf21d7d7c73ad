// Takes the README's screenshot of the admin dashboard: runs `spiffe-lb up` in a temporary
// directory, sends traffic through the proxy for a while (including rejected requests), then
// opens the dashboard in headless Chromium and writes a PNG.
//   node scripts/dashboard-screenshot.ts [out.png] [width] [height] [panel] [seconds of traffic, 40]
// (default docs/dashboard.png, 1280 × 1000 from the top; `panel` starts the picture at that
// panel's id instead). The README's copies stay under 200 KB each: a screenful, not the page.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const out = process.argv[2] ?? new URL('../docs/dashboard.png', import.meta.url).pathname
const width = Number(process.argv[3] ?? 1280)
const height = Number(process.argv[4] ?? 1000)
const panel = process.argv[5] === '' ? undefined : process.argv[5]
const seconds = Number(process.argv[6] ?? 40)
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-shot-'))
const child = spawn(process.execPath, [new URL('../src/cli/main.ts', import.meta.url).pathname, 'up', '--dir', dir, '--port', '0', '--admin-port', '0', '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'inherit'] })
let output = ''
child.stdout.on('data', (d: Buffer) => { output += d.toString() })
try {
  while (!output.includes('/status')) await new Promise((resolve) => setTimeout(resolve, 100))
  const proxy = /curl -s (http:\/\/127\.0\.0\.1:\d+)\/hello/.exec(output)?.[1] ?? ''
  const admin = /curl -s (http:\/\/127\.0\.0\.1:\d+)\/status/.exec(output)?.[1] ?? ''
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--disable-gpu'] })
  const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 })
  await page.goto(`${admin}/`, { waitUntil: 'load' })
  // Uneven traffic, so the charts have a shape.
  for (let s = 0; s < seconds; s++) {
    const n = 20 + Math.round(15 * Math.sin(s / 5))
    await Promise.all(Array.from({ length: n }, async (_, i) => {
      const path = i % 10 === 0 ? '/untrusted/hello' : i % 3 === 0 ? '/partner/hello' : '/hello'
      await fetch(`${proxy}${path}`).then(async (r) => await r.arrayBuffer()).catch(() => {})
    }))
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  const top = panel === undefined ? 0 : Number(await page.evaluate(`document.getElementById(${JSON.stringify(panel)}).getBoundingClientRect().top + window.scrollY - 8`))
  await page.screenshot({ path: out, clip: { x: 0, y: top, width, height }, fullPage: true })
  await browser.close()
  console.log(`wrote ${out}`)
} finally {
  child.kill('SIGTERM')
  await rm(dir, { recursive: true, force: true })
}
