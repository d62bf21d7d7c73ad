// nginx as a test peer (mTLS backend, refusing backend, proxying client): the binary, a free
// port, a readiness probe and the config preamble every test otherwise wrote again.
import { connect } from 'node:net'
import { join } from 'node:path'

export { freePort } from '../src/bench/proxy/peer-proxies.ts'

/** Debian's nginx (CI installs nginx-light). */
export const NGINX = '/usr/sbin/nginx'

/** Resolves true once something accepts TCP connections on loopback `port`, false when refused. */
export async function accepting (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const c = connect(port, '127.0.0.1')
    c.once('connect', () => { c.destroy(); resolve(true) })
    c.once('error', () => { resolve(false) })
  })
}

/**
 * Returns an nginx.conf for a foreground, single-process nginx whose pid, error log and temp
 * folders are under `dir` (named by `name`); `http` is the rest of the http block (log format,
 * servers).
 */
export function nginxConf (dir: string, name: string, http: string): string {
  return `daemon off;
master_process off;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}-error.log`)};
events {}
http {
  client_body_temp_path ${join(dir, 'b')};
  proxy_temp_path ${join(dir, 'p')};
  fastcgi_temp_path ${join(dir, 'f')};
  uwsgi_temp_path ${join(dir, 'u')};
  scgi_temp_path ${join(dir, 's')};
${http}
}
`
}
