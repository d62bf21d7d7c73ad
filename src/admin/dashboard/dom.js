// The dashboard's DOM and formatting helpers. Text from the wire is only ever set as text.

export const SVG = 'http://www.w3.org/2000/svg'

/** Returns an element (HTML, or SVG when `ns` is given) with attributes and children. */
export function el (tag, attrs = {}, kids = [], ns) {
  const e = ns === undefined ? document.createElement(tag) : document.createElementNS(ns, tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'text') e.textContent = String(v)
    else e.setAttribute(k, v === true ? '' : String(v))
  }
  for (const k of [kids].flat(3)) if (k !== null && k !== undefined) e.append(typeof k === 'object' ? k : String(k))
  return e
}
export const svg = (tag, attrs, kids) => el(tag, attrs, kids, SVG)
export const $ = (id) => document.getElementById(id)

export const when = (iso) => iso === null || iso === undefined ? '—' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
function ago (ms) {
  const s = Math.round(Math.abs(ms) / 1000)
  const text = s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m ${s % 60}s` : s < 172800 ? `${Math.floor(s / 3600)}h ${Math.floor(s % 3600 / 60)}m` : `${Math.floor(s / 86400)}d`
  return ms >= 0 ? `in ${text}` : `${text} ago`
}
export const rel = (iso) => iso === null || iso === undefined ? '' : ` (${ago(Date.parse(iso) - Date.now())})`
export const num = (n) => n === null || n === undefined ? '—' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)
export const trustDomainOf = (id) => /^spiffe:\/\/([^/]+)/i.exec(id ?? '')?.[1] ?? ''

/** A table inside a keyboard-scrollable wrapper (narrow screens scroll it sideways). */
export function table (id, caption, head, rows) {
  return el('div', { class: 'scroll', tabindex: 0, id: `${id}-wrap`, role: 'region', 'aria-label': caption }, [
    el('table', { id }, [
      el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col', class: /\/s$|ms\)?$/.test(h) ? 'num' : undefined, text: h })))),
      el('tbody', {}, rows.length === 0
        ? el('tr', {}, el('td', { colspan: head.length, class: 'muted', text: 'none' }))
        : rows.map((r) => el('tr', { 'data-key': r.key }, r.cells)))
    ])
  ])
}
export const td = (text, cls) => el('td', { class: cls, text })

/** Replaces `box`'s children, keeping which element had focus and which <details> were open. */
export function swap (box, nodes) {
  const focused = box.contains(document.activeElement) ? document.activeElement.id : ''
  const open = new Set([...box.querySelectorAll('details[open]')].map((d) => d.id))
  box.replaceChildren(...[nodes].flat())
  for (const id of open) { const d = box.querySelector(`#${CSS.escape(id)}`); if (d !== null) d.open = true }
  if (focused !== '') box.querySelector(`#${CSS.escape(focused)}`)?.focus({ preventScroll: true })
}
