import { errorDoc as e, errorFactory, type ErrorRegistry, type RegistryOwner } from '../internal/errors.ts'

/** Codes of the reverse proxy's routing (`src/proxy`): url map, backend services, balancing. */
export const PROXY_ERRORS = {
  ERR_SPIFFE_PROXY_BAD_SERVICE: e('a backend service option breaks a rule (name, policy, endpoints, timeouts)', 'a library caller passing an invalid service option', 'fix the option the message names'),
  ERR_SPIFFE_PROXY_DUPLICATE_SERVICE: e('two backend services have the same name', 'a library caller passing a service twice', 'give each service its own name'),
  ERR_SPIFFE_PROXY_NO_CONNECTOR: e('a backend service has no backend connector', 'a library caller that set neither the service\'s nor the proxy\'s connector', 'set a connector on the service or on the proxy'),
  ERR_SPIFFE_PROXY_UNKNOWN_POLICY: e('a load-balancing policy is not ROUND_ROBIN, LEAST_REQUEST or RANDOM', 'a misspelt policy passed to the library', 'use one of the three policies'),
  ERR_SPIFFE_PROXY_UNKNOWN_SERVICE: e('the url map names a backend service that is not defined', 'a typo in a url map passed to the library', 'define the service, or fix the url map'),
  ERR_SPIFFE_PROXY_DUPLICATE_PATH_MATCHER: e('two path matchers have the same name', 'a path matcher passed twice', 'give each path matcher its own name'),
  ERR_SPIFFE_PROXY_BAD_PATH_PATTERN: e('a path rule does not start with "/" or has "*" other than a final "/*"', 'a glob or regular expression used as path', 'write exact paths or prefixes ending in "/*"'),
  ERR_SPIFFE_PROXY_DUPLICATE_PATH: e('a path appears twice in one path matcher', 'the same path in two rules', 'keep each path in one rule'),
  ERR_SPIFFE_PROXY_UNKNOWN_PATH_MATCHER: e('a host rule names a path matcher that is not defined', 'a typo in the host rule', 'define the path matcher, or fix the host rule'),
  ERR_SPIFFE_PROXY_BAD_HOST_PATTERN: e('a host rule host has a port, or "*" other than as its first character', '"example.org:8080" or "api.*.org" as a host', 'write host names without port; use "*.example.org" for wildcards'),
  ERR_SPIFFE_PROXY_DUPLICATE_HOST: e('a host appears in more than one host rule', 'the same host added to two rules', 'keep each host in one host rule')
} as const satisfies ErrorRegistry

/** One of the {@link PROXY_ERRORS} codes. */
export type ProxyErrorCode = keyof typeof PROXY_ERRORS

/** Makes an error with one of the {@link PROXY_ERRORS} codes. */
export const proxyError = errorFactory(PROXY_ERRORS)

/** `src/proxy` owns the `PROXY` prefix. */
export const PROXY_ERROR_REGISTRY: RegistryOwner = { folder: 'proxy', prefixes: ['PROXY'], codes: PROXY_ERRORS }
