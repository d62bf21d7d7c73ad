/**
 * The configs of the peer baselines of `bench proxy`: nginx and HAProxy as the same mTLS
 * forwarding proxy spiffe-lb is (client certificate = the proxy's SVID, the backend verified
 * against the bench trust bundle), one worker each, in the three modes. Pure renderers; the
 * processes are started by peer-proxies.ts.
 *
 * What they verify: the backend's chain against the bench root (OpenSSL chain verification) and
 * its DNS name `localhost`. Neither can select the bundle by the backend's SPIFFE trust domain nor
 * check the SVID rules (one URI SAN, CA:FALSE, …); spiffe-lb does both on every handshake.
 */
import type { ProxyMode } from './proxy-options.ts'
import { formatHostPort } from '../../internal/host-port.ts'

export { PEER_NAMES } from './proxy-options.ts'
export type { PeerName } from './proxy-options.ts'

/** What every peer config needs; all paths absolute. */
export interface PeerConfigInput {
  mode: ProxyMode
  /** Loopback port the peer listens on. */
  listenPort: number
  /** `HOST:PORT` of the mTLS backend. */
  backend: string
  /** The client SVID (leaf + chain) and its key, as files. */
  certFile: string
  keyFile: string
  /** HAProxy wants certificate and key in one file. */
  combinedFile: string
  /** The bundle the backend must chain to. */
  caFile: string
  /** Folder for pid, logs and temp files. */
  dir: string
}

/** The name the bench backend's certificate carries (the bench PKI issues it for `localhost`). */
const BACKEND_NAME = 'localhost'

/**
 * Returns an nginx config: master + one worker, access log on (to a file, as nginx users run it),
 * TLS 1.3 to the backend with `proxy_ssl_verify on`. `fresh` turns session reuse off, `resumed`
 * keeps it on (nginx's default), `pooled` adds an upstream keep-alive pool.
 */
export function nginxConfig (c: PeerConfigInput): string {
  const pooled = c.mode === 'pooled'
  return [
    'daemon off;',
    'worker_processes 1;',
    `pid ${c.dir}/nginx.pid;`,
    // notice level prints "start worker process", the line the bench waits for.
    'error_log stderr notice;',
    'events { worker_connections 4096; }',
    'http {',
    `  access_log ${c.dir}/nginx-access.log;`,
    `  client_body_temp_path ${c.dir}/nginx-body;`,
    `  proxy_temp_path ${c.dir}/nginx-proxy;`,
    `  fastcgi_temp_path ${c.dir}/nginx-fastcgi;`,
    `  uwsgi_temp_path ${c.dir}/nginx-uwsgi;`,
    `  scgi_temp_path ${c.dir}/nginx-scgi;`,
    '  upstream backend {',
    `    server ${c.backend};`,
    ...(pooled ? ['    keepalive 64;'] : []),
    '  }',
    '  server {',
    `    listen ${formatHostPort('127.0.0.1', c.listenPort)};`,
    '    location / {',
    '      proxy_pass https://backend;',
    '      proxy_http_version 1.1;',
    `      proxy_set_header Connection ${pooled ? '""' : 'close'};`,
    `      proxy_ssl_certificate ${c.certFile};`,
    `      proxy_ssl_certificate_key ${c.keyFile};`,
    `      proxy_ssl_trusted_certificate ${c.caFile};`,
    '      proxy_ssl_verify on;',
    '      proxy_ssl_verify_depth 2;',
    `      proxy_ssl_name ${BACKEND_NAME};`,
    '      proxy_ssl_protocols TLSv1.3;',
    `      proxy_ssl_session_reuse ${c.mode === 'fresh' ? 'off' : 'on'};`,
    '    }',
    '  }',
    '}',
    ''
  ].join('\n')
}

/**
 * Returns a HAProxy config: one thread, HTTP log lines on stdout (its access log), TLS 1.3 to
 * the backend with `verify required`. `fresh` adds `no-ssl-reuse`; `fresh` and `resumed` close
 * the backend connection after each response (`http-server-close`); `pooled` reuses them.
 */
export function haproxyConfig (c: PeerConfigInput): string {
  const pooled = c.mode === 'pooled'
  return [
    'global',
    '  nbthread 1',
    '  maxconn 8192',
    `  pidfile ${c.dir}/haproxy.pid`,
    'defaults',
    '  mode http',
    '  log stdout format raw local0 info',
    '  option httplog',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    ...(pooled ? ['  http-reuse always'] : ['  option http-server-close']),
    'frontend fe',
    `  bind ${formatHostPort('127.0.0.1', c.listenPort)}`,
    '  default_backend be',
    'backend be',
    `  server s1 ${c.backend} ssl verify required ca-file ${c.caFile} crt ${c.combinedFile} ` +
      `verifyhost ${BACKEND_NAME} sni str(${BACKEND_NAME}) ssl-min-ver TLSv1.3${c.mode === 'fresh' ? ' no-ssl-reuse' : ''}`,
    ''
  ].join('\n')
}
