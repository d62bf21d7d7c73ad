/**
 * The proxy's limit defaults as option objects, built from the numbers in src/defaults.ts.
 */
import {
  FRONTEND_HEADERS_TIMEOUT_MS, FRONTEND_HTTP2_MAX_CONCURRENT_STREAMS, FRONTEND_HTTP2_MAX_RESET_STREAMS, FRONTEND_HTTP2_RESET_STREAMS_WINDOW_MS, FRONTEND_KEEP_ALIVE_TIMEOUT_MS, FRONTEND_MAX_CONNECTIONS, FRONTEND_MAX_HEADER_SIZE,
  FRONTEND_REQUEST_TIMEOUT_MS, OUTLIER_BASE_EJECTION_TIME_MS, OUTLIER_CONSECUTIVE_ERRORS, OUTLIER_CONSECUTIVE_GATEWAY_FAILURE,
  OUTLIER_ENFORCING_CONSECUTIVE_ERRORS, OUTLIER_ENFORCING_CONSECUTIVE_GATEWAY_FAILURE, OUTLIER_MAX_EJECTION_PERCENT
} from '../defaults.ts'
import type { FrontendLimits, OutlierDetectionOptions } from './types.ts'

export { FRONTEND_TIMEOUT_CHECK_MS } from '../defaults.ts'

/** Frontend limits used for every field `frontend.limits` leaves out. */
export const DEFAULT_FRONTEND_LIMITS: Readonly<FrontendLimits> = Object.freeze({
  maxConnections: FRONTEND_MAX_CONNECTIONS,
  headersTimeoutMs: FRONTEND_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: FRONTEND_REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: FRONTEND_KEEP_ALIVE_TIMEOUT_MS,
  maxHeaderSize: FRONTEND_MAX_HEADER_SIZE,
  http2MaxConcurrentStreams: FRONTEND_HTTP2_MAX_CONCURRENT_STREAMS,
  http2MaxResetStreams: FRONTEND_HTTP2_MAX_RESET_STREAMS,
  http2ResetStreamsWindowMs: FRONTEND_HTTP2_RESET_STREAMS_WINDOW_MS
})

/** The cloud's `outlierDetection` defaults, for fields a configured block leaves out. */
export const DEFAULT_OUTLIER_DETECTION: Readonly<OutlierDetectionOptions> = Object.freeze({
  consecutiveErrors: OUTLIER_CONSECUTIVE_ERRORS,
  consecutiveGatewayFailure: OUTLIER_CONSECUTIVE_GATEWAY_FAILURE,
  enforcingConsecutiveErrors: OUTLIER_ENFORCING_CONSECUTIVE_ERRORS,
  enforcingConsecutiveGatewayFailure: OUTLIER_ENFORCING_CONSECUTIVE_GATEWAY_FAILURE,
  baseEjectionTimeMs: OUTLIER_BASE_EJECTION_TIME_MS,
  maxEjectionPercent: OUTLIER_MAX_EJECTION_PERCENT
})

/** Returns `limits` with every absent field set to its default. */
export function frontendLimits (limits: Partial<FrontendLimits> | undefined): FrontendLimits {
  return { ...DEFAULT_FRONTEND_LIMITS, ...limits }
}
