// grpc-health-check 2.x ships JavaScript without declarations; this is the part we call.
declare module 'grpc-health-check' {
  import type { Server, ServiceDefinition } from '@grpc/grpc-js'
  export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING'
  /** The standard `grpc.health.v1.Health` service (Check and Watch). */
  export class HealthImplementation {
    constructor (initialStatusMap?: Record<string, ServingStatus>)
    setStatus (service: string, status: ServingStatus): void
    addToServer (server: Server): void
  }
  export const service: ServiceDefinition
  export const protoPath: string
}
