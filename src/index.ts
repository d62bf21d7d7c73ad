/**
 * spiffe-lb library entry. The SPIFFE core (IDs, trust domains, bundles, X.509-SVIDs and
 * their verification) is re-exported here; see DESIGN.md section 3 for the module layout.
 */
export * from './spiffe/index.ts'
export { SpiffeLbError, isSpiffeLbError } from './internal/errors.ts'
export * from './pki/index.ts'
export * from './config/index.ts'
