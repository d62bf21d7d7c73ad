// Entry module of a `serve --workers N` worker: node:cluster forks a process that runs this file
// (see cluster-workers.ts); everything else comes from the primary over IPC.
import { runClusterWorker } from './cluster-worker.ts'

runClusterWorker()
