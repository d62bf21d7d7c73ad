// The spiffe-lb admin dashboard: renders the admin listener's event stream (the documents of
// /status and /debug/peers, and the traffic sampler's points) into the panels. It only reads:
// one EventSource on this origin, no other request, no action. Text from the wire (SPIFFE IDs,
// peer messages) is only ever set as text, never parsed as markup.

import { renderTraffic } from './charts.js'
import { $, el, num, rel, svg, swap, table, td, trustDomainOf, when } from './dom.js'

const state = { status: null, peers: null, points: [], backends: [], breakers: {}, windowMs: 600000, intervalMs: 1000, td: '', verdict: '' }

function renderIdentity (id) {
  if (id === null || id === undefined) { swap($('identity-body'), el('p', { class: 'muted', text: 'no identity reported' })); return }
  const has = id.notBefore !== null
  const items = [
    ['SPIFFE ID', el('span', { class: 'mono', id: 'svid-id', text: id.spiffeId })],
    ['Serial', el('span', { class: 'mono', id: 'svid-serial', text: id.serial ?? '—' })],
    ['Source', `${id.source ?? '—'}${id.sourceState === undefined ? '' : ` (${id.sourceState})`}`],
    ['Generation', id.generation ?? '—'],
    ['Not before', when(id.notBefore)],
    ['Not after', `${when(id.svidExpiry)}${rel(id.svidExpiry)}`],
    ['Next rotation', `${when(id.nextRotation)}${rel(id.nextRotation)}`]
  ]
  if (id.lastError !== undefined) items.push(['Last error', el('span', { class: 'bad', text: id.lastError })])
  const nodes = [el('dl', {}, items.map(([k, v]) => [el('dt', { text: k }), el('dd', {}, v)]))]
  if (has) nodes.push(...timeBar(Date.parse(id.notBefore), Date.parse(id.svidExpiry), id.nextRotation === null ? null : Date.parse(id.nextRotation)))
  nodes.push(el('h3', { text: 'Chain' }), table('chain', 'Certificate chain, leaf first', ['#', 'Subject / SPIFFE ID', 'Issuer', 'Serial', 'Not after'],
    (id.chain ?? []).map((c, i) => ({ key: c.serial, cells: [td(i === 0 ? 'leaf' : String(i)), td(c.spiffeId ?? c.subject, 'mono'), td(c.issuer, 'mono'), td(c.serial, 'mono'), td(when(c.notAfter))] }))))
  const rotations = [...(id.rotations ?? [])].reverse()
  nodes.push(el('h3', { text: `Rotations since start (${rotations.length})` }), table('rotations', 'SVIDs accepted since start, newest first', ['Accepted at', 'Serial', 'Not after'],
    rotations.map((r) => ({ key: r.serial, cells: [td(when(r.at)), td(r.serial, 'mono'), td(when(r.notAfter))] }))))
  swap($('identity-body'), nodes)
}

/** The SVID's lifetime as a bar: elapsed part, the rotation point and now; and the same in words. */
function timeBar (from, to, rotation) {
  const now = Date.now()
  const share = (t) => Math.min(1, Math.max(0, (t - from) / (to - from)))
  const at = (t) => `${(share(t) * 100).toFixed(2)}%`
  const words = `Valid from ${when(new Date(from).toISOString())} to ${when(new Date(to).toISOString())}; ` +
    `${rotation === null ? 'no rotation scheduled' : `rotation at ${when(new Date(rotation).toISOString())}`}; now at ${at(now)} of its lifetime.`
  return [
    svg('svg', { class: 'timebar', role: 'img', 'aria-label': words }, [
      svg('text', { x: '0', y: '12', text: 'notBefore' }),
      svg('text', { x: '100%', y: '12', 'text-anchor': 'end', text: 'notAfter' }),
      svg('rect', { class: 'track', x: '0', y: '18', width: '100%', height: '14', rx: '3' }),
      svg('rect', { class: 'used', x: '0', y: '18', width: at(now), height: '14', rx: '3' }),
      rotation === null ? null : svg('line', { class: 'rot', x1: at(rotation), x2: at(rotation), y1: '14', y2: '36' }),
      rotation === null ? null : svg('text', { x: at(rotation), y: '50', 'text-anchor': 'middle', text: 'rotation' }),
      svg('line', { class: 'now', x1: at(now), x2: at(now), y1: '14', y2: '36' }),
      svg('text', { x: at(now), y: '50', 'text-anchor': share(now) > 0.9 ? 'end' : 'start', text: share(now) > 0.9 ? 'now ' : ' now' })
    ]),
    el('p', { class: 'muted', id: 'timebar-text', text: words })
  ]
}

function renderTrust (status) {
  const federation = new Map((status.federation ?? []).map((f) => [f.trustDomain, f]))
  swap($('trust-body'), table('trust-table', 'Trust domains', ['Trust domain', 'Source', 'Anchors (expiry)', 'Last refresh', 'CRL'],
    status.trustDomains.map((t) => {
      const f = federation.get(t.trustDomain)
      const anchors = (t.anchors ?? t.anchorFingerprints.map((fp) => ({ subject: fp.slice(0, 16), notAfter: null })))
        .map((a) => el('div', {}, [el('span', { class: 'mono', text: a.subject }), ` — expires ${when(a.notAfter)}${rel(a.notAfter)}`]))
      const crls = (t.crls ?? []).map((c) => el('div', { class: c.stale === true || c.lastError !== undefined ? 'bad' : undefined },
        `${c.source}: ${c.stale === true ? 'stale' : 'fresh'}, ${c.revoked ?? 0} revoked, next update ${when(c.nextUpdate)} (${c.staleCrl})${c.lastError === undefined ? '' : `; ${c.lastError}`}`))
      return {
        key: t.trustDomain,
        cells: [
          td(t.trustDomain, 'mono'),
          el('td', {}, [t.source ?? '—', f === undefined ? null : el('div', { class: f.state === 'fresh' ? 'ok' : 'warn', text: `${f.state}${f.lastError === null ? '' : `: ${f.lastError}`}` })]),
          el('td', {}, anchors),
          td(t.lastRefresh === undefined ? '—' : `${when(t.lastRefresh)}${rel(t.lastRefresh)}`),
          el('td', {}, crls.length === 0 ? 'none' : crls)
        ]
      }
    })))
}

function renderBackends (status, peers) {
  const verdicts = new Map((peers ?? []).map((p) => [p.endpoint, p]))
  const rates = new Map(state.backends.map((b) => [`${b.service} ${b.endpoint}`, b]))
  const rows = status.services.flatMap((s) => s.endpoints.map((e) => {
    const p = verdicts.get(e.endpoint)
    const r = rates.get(`${s.name} ${e.endpoint}`)
    const peerId = e.peerSpiffeId ?? p?.spiffeId
    const trips = state.breakers[s.name] ?? 0
    return {
      key: `${s.name} ${e.endpoint}`,
      cells: [
        td(s.name), td(e.endpoint, 'mono nowrap'),
        td(e.healthy ? 'healthy' : 'unhealthy', e.healthy ? 'ok' : 'bad'),
        td(peerId ?? '—', 'mono'), td(trustDomainOf(peerId) || '—', 'mono'),
        p === undefined ? td('—') : el('td', { class: p.verdict === 'accept' ? 'ok' : 'bad' }, [p.verdict, p.reasons.length === 0 ? null : el('span', { class: 'mono code', text: p.reasons.join(', ') })]),
        td(trips > 0 ? `open: ${num(trips)} refused/s` : 'closed', trips > 0 ? 'warn' : undefined),
        td(e.healthy ? '—' : e.reason ?? 'ejected'),
        td(num(r?.rps ?? 0), 'num'), td(num(r?.errorsPerSecond ?? 0), 'num')
      ]
    }
  }))
  swap($('backends-body'), table('backends-table', 'Backend endpoints', ['Service', 'Endpoint', 'Health', 'Peer SPIFFE ID', 'Trust domain', 'Verdict', 'Circuit breaker', 'Ejected because', 'req/s', 'errors/s'], rows))
}

function renderPeers (status, peers) {
  if (peers === null) { swap($('peers-body'), el('p', { class: 'muted', text: 'this listener records no peer verdicts' })); return }
  const tds = [...new Set([...status.trustDomains.map((t) => t.trustDomain), ...peers.map((p) => trustDomainOf(p.spiffeId)).filter((t) => t !== '')])].sort()
  const select = $('filter-td')
  const want = ['', ...tds]
  if ([...select.options].map((o) => o.value).join(' ') !== want.join(' ')) {
    select.replaceChildren(...want.map((t) => el('option', { value: t, text: t === '' ? 'all' : t })))
    select.value = want.includes(state.td) ? state.td : ''
  }
  const shown = peers.filter((p) => (state.td === '' || trustDomainOf(p.spiffeId) === state.td) && (state.verdict === '' || p.verdict === state.verdict))
  const worker = peers.some((p) => p.worker !== undefined)
  swap($('peers-body'), table('peers-table', 'Recent verdicts, one per backend endpoint', ['Endpoint', 'Verdict', 'SPIFFE ID', 'Trust domain', 'Rule (code)', 'Why', 'Resumed', 'Seen', ...(worker ? ['Worker'] : [])],
    shown.map((p) => ({
      key: p.endpoint,
      cells: [
        td(p.endpoint, 'mono nowrap'), td(p.verdict, p.verdict === 'accept' ? 'ok' : 'bad'), td(p.spiffeId ?? '—', 'mono'), td(trustDomainOf(p.spiffeId) || '—', 'mono'),
        td(p.reasons.join(', ') || '—', 'mono'), td(p.message ?? '—'), td(p.resumed ? 'yes' : 'no'), td(`${when(p.seenAt)}${rel(p.seenAt)}`),
        ...(worker ? [td(p.worker ?? '—')] : [])
      ]
    }))))
}

function render () {
  const s = state.status
  if (s === null) return
  renderIdentity(s.identity)
  renderTrust(s)
  renderBackends(s, state.peers)
  renderPeers(s, state.peers)
  renderTraffic(state)
}

/** Says whether the stream is up; announced to screen readers only when that changes. */
function connected (text, cls) {
  const c = $('conn')
  if (c.textContent !== text) c.textContent = text
  c.className = cls
}

function receive (d) {
  state.status = d.status
  state.peers = d.peers
  render()
  connected('live', 'ok')
  $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`
}

$('filter-td').addEventListener('change', (e) => { state.td = e.target.value; render() })
$('filter-verdict').addEventListener('change', (e) => { state.verdict = e.target.value; render() })
$('peer-filters').addEventListener('submit', (e) => { e.preventDefault() })

const events = new EventSource('/dashboard/events')
events.addEventListener('hello', (e) => {
  const d = JSON.parse(e.data)
  state.points = d.history
  state.windowMs = d.windowMs
  state.intervalMs = d.intervalMs
  receive(d)
})
events.addEventListener('tick', (e) => {
  const d = JSON.parse(e.data)
  state.points.push(d.point)
  while (state.points.length > 0 && state.points[0].t < d.point.t - state.windowMs) state.points.shift()
  state.backends = d.backends
  state.breakers = d.breakerTrips
  receive(d)
})
events.addEventListener('error', () => { connected('disconnected: retrying…', 'bad') })
