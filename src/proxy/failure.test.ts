import t from 'tap'
import { spiffeError } from '../spiffe/errors.ts'
import { TLS_ERROR, TlsPeerRejectedError, tlsError } from '../tls/errors.ts'
import { backendFailure } from './failure.ts'

const key = '127.0.0.1:9443'
const verifyError = spiffeError('ERR_SPIFFE_VERIFY_NO_BUNDLE', 'no bundle for trust domain "evil.test"')
const rejected = new TlsPeerRejectedError(TLS_ERROR.PEER_REJECTED, verifyError.code,
  `backend "${key}" rejected: ${verifyError.message}`, { cause: verifyError })
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9443'), { code: 'ECONNREFUSED' })

const cases: Array<[string, unknown, boolean, { status: number, message: string, eject: boolean, retryable: boolean, kind: string }]> = [
  ['svid rejected', rejected, false, {
    kind: 'rejected', status: 502, eject: true, retryable: true,
    message: 'backend 127.0.0.1:9443 rejected: no bundle for trust domain "evil.test" (ERR_SPIFFE_VERIFY_NO_BUNDLE)'
  }],
  ['no peer certificate', new TlsPeerRejectedError(TLS_ERROR.NO_PEER_CERTIFICATE, TLS_ERROR.NO_PEER_CERTIFICATE, 'presented no certificate'), false, {
    kind: 'rejected', status: 502, eject: true, retryable: true,
    message: 'backend 127.0.0.1:9443 rejected: presented no certificate (ERR_SPIFFE_TLS_NO_PEER_CERTIFICATE)'
  }],
  ['connection refused', refused, false, {
    kind: 'connect', status: 502, eject: true, retryable: true,
    message: 'backend 127.0.0.1:9443 connect failed: connect ECONNREFUSED 127.0.0.1:9443 (ECONNREFUSED)'
  }],
  ['failure after the request was written', Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), true, {
    kind: 'gateway', status: 502, eject: false, retryable: false, message: 'backend 127.0.0.1:9443 failed: other side closed (UND_ERR_SOCKET)'
  }],
  ['headers timeout', Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), true, {
    kind: 'gateway', status: 504, eject: false, retryable: false, message: 'backend 127.0.0.1:9443 timed out: Headers Timeout Error (UND_ERR_HEADERS_TIMEOUT)'
  }],
  ['own svid unusable', tlsError('ERR_SPIFFE_TLS_NO_CREDENTIALS', 'no usable svid'), false, {
    kind: 'none', status: 502, eject: false, retryable: false, message: 'no usable svid (ERR_SPIFFE_TLS_NO_CREDENTIALS)'
  }],
  ['pool closed by a reload', Object.assign(new Error('The client is destroyed'), { code: 'UND_ERR_DESTROYED' }), false, {
    kind: 'none', status: 502, eject: false, retryable: true, message: 'backend 127.0.0.1:9443 unavailable: The client is destroyed (UND_ERR_DESTROYED)'
  }]
]

for (const [name, err, started, want] of cases) {
  t.test(name, async (t) => {
    const got = backendFailure(key, err, started)
    t.same(got, want)
    t.notMatch(got.message, /\n/, 'one line')
  })
}
