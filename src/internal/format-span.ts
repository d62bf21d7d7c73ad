/** Returns `ms` as `2d 3h`, `23h 59m`, `5m 10s` or `42s`: the two largest units. */
export function formatSpan (ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000)
  const units: Array<[string, number]> = [['d', Math.floor(s / 86400)], ['h', Math.floor(s / 3600) % 24], ['m', Math.floor(s / 60) % 60], ['s', s % 60]]
  const first = units.findIndex(([, n]) => n > 0)
  if (first === -1) return '0s'
  return units.slice(first, first + 2).filter(([, n]) => n > 0).map(([u, n]) => `${n}${u}`).join(' ')
}
