/**
 * Calls every listener with `value`. A listener that throws is reported as a process warning
 * naming `what` and does not keep the others from being called: one broken subscriber must not
 * stop a credential update from reaching the rest.
 */
export function notifyAll<T> (listeners: Iterable<(value: T) => void>, value: T, what: string): void {
  for (const listener of listeners) {
    try {
      listener(value)
    } catch (err) {
      process.emitWarning(`${what} subscriber threw: ${String(err)}`, 'SpiffeLbWarning')
    }
  }
}
