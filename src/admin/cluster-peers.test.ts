import t from 'tap'
import { mergeWorkerPeers } from './cluster-peers.ts'
import type { PeerRecord } from './peer-record.ts'

const record = (endpoint: string, seenAt: string, verdict: PeerRecord['verdict'] = 'accept'): PeerRecord => ({
  endpoint,
  verdict,
  reasons: verdict === 'accept' ? [] : ['ERR_SPIFFE_VERIFY_NO_BUNDLE'],
  message: undefined,
  spiffeId: 'spiffe://example.org/b',
  chain: [],
  resumed: false,
  seenAt
})

t.test('merging the workers\' peer records', async (t) => {
  const cases: Array<{ name: string, answers: Parameters<typeof mergeWorkerPeers>[0], want: Array<Partial<PeerRecord>> }> = [
    { name: 'no worker answered', answers: [], want: [] },
    {
      name: 'the newest verdict per endpoint wins, naming its worker',
      answers: [
        { worker: '1', peers: [record('127.0.0.1:2', '2026-11-30T10:00:00.000Z'), record('127.0.0.1:1', '2026-11-30T10:00:05.000Z', 'reject')] },
        { worker: '2', peers: [record('127.0.0.1:1', '2026-11-30T10:00:01.000Z')] }
      ],
      want: [
        { endpoint: '127.0.0.1:1', verdict: 'reject', worker: '1' },
        { endpoint: '127.0.0.1:2', verdict: 'accept', worker: '1' }
      ]
    },
    {
      name: 'a later verdict of another worker replaces an earlier one',
      answers: [
        { worker: '1', peers: [record('127.0.0.1:1', '2026-11-30T10:00:00.000Z', 'reject')] },
        { worker: '2', peers: [record('127.0.0.1:1', '2026-11-30T10:00:09.000Z')] }
      ],
      want: [{ endpoint: '127.0.0.1:1', verdict: 'accept', worker: '2' }]
    },
    {
      name: 'a tie keeps the first worker',
      answers: [
        { worker: '1', peers: [record('127.0.0.1:1', '2026-11-30T10:00:00.000Z')] },
        { worker: '2', peers: [record('127.0.0.1:1', '2026-11-30T10:00:00.000Z', 'reject')] }
      ],
      want: [{ endpoint: '127.0.0.1:1', verdict: 'accept', worker: '1' }]
    }
  ]
  for (const c of cases) {
    const got = mergeWorkerPeers(c.answers)
    t.equal(got.length, c.want.length, c.name)
    c.want.forEach((w, i) => { t.match(got[i], w, c.name) })
  }
})
