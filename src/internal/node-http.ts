/**
 * `node:http`, loaded with `require`. An ESM import of a builtin builds its namespace by reading
 * every export, and node:http's `WebSocket`, `CloseEvent` and `MessageEvent` are getters that load
 * Node's own bundled undici (760 KB of source and its compiled code: about 8 MiB of RSS in every
 * process, `serve` included, for classes nothing here uses). `require` leaves the getters unread.
 * Import node:http through this module; `import type` from 'node:http' stays free.
 */
import { createRequire } from 'node:module'

/** Returns Node's `http` module (https://nodejs.org/api/http.html). */
export const http: typeof import('node:http') = createRequire(import.meta.url)('node:http')
