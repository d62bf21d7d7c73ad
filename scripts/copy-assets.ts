// Part of the build (`npm run build`, `prepare`, the Dockerfile): tsc emits only JavaScript, so
// the admin dashboard's page files (src/admin/dashboard/) are copied beside the built
// dist/admin/dashboard.js, which serves them from there.
import { cp } from 'node:fs/promises'

const from = new URL('../src/admin/dashboard/', import.meta.url)
const to = new URL('../dist/admin/dashboard/', import.meta.url)
await cp(from, to, { recursive: true })
