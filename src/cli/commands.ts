import type { RegisterCommand } from './program.ts'

/** Returns every command module's registration, in help order. */
export function loadCommands (): RegisterCommand[] {
  return []
}
