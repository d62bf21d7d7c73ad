#!/usr/bin/env node
// The package's `bin`. It must parse and run on any Node a user may have: static ESM imports are
// evaluated before any code here, and the program needs Node 24 APIs, so check the version first
// and only then import the program. Keep this file free of syntax or imports newer Node needs.

// The Node.js major version spiffe-lb runs on: the one package.json `engines.node` allows.
const REQUIRED_NODE_MAJOR = 24

const found = process.versions.node
if (Number(found.split('.')[0]) !== REQUIRED_NODE_MAJOR) {
  // The project pins its Node as the `node` dev dependency: started by another Node (the
  // system's 20, say), run the same command under the pinned one instead of refusing.
  const { pinnedNode, runUnder } = await import('../internal/pinned-node.ts')
  const pinned = pinnedNode(import.meta.url, REQUIRED_NODE_MAJOR)
  if (pinned !== undefined) {
    process.exitCode = await runUnder(pinned, process.argv.slice(1), (message) => { process.stderr.write(`spiffe-lb: ERR_SPIFFE_CLI_NODE_VERSION: ${message}\n`) })
  } else {
    process.stderr.write(`spiffe-lb: ERR_SPIFFE_CLI_NODE_VERSION: needs Node.js ${REQUIRED_NODE_MAJOR}, found ${JSON.stringify(found)} (${process.execPath}), ` +
      `and no node@${REQUIRED_NODE_MAJOR} package beside it: run it with Node.js ${REQUIRED_NODE_MAJOR} (npx -y -p node@${REQUIRED_NODE_MAJOR} -- spiffe-lb …), or npm ci in the project first\n`)
    process.exitCode = 2
  }
} else {
  // V8 reads its heap sizing only at start: a data-plane command that lacks its flags replaces
  // this process with one that has them (same pid, same stdio) before loading anything else.
  const { restartArgv } = await import('../internal/v8-flags.ts')
  const argv = restartArgv({ argv: process.argv, execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS, ipc: process.channel !== undefined })
  if (argv !== undefined && typeof process.execve === 'function') {
    try {
      process.execve(process.execPath, argv)
    } catch (err) {
      process.stderr.write(`spiffe-lb: warning: running without the data plane's V8 flags: ${(err as Error).message}\n`)
    }
  }
  // A reader that stops early (`| head -1`) closes the pipe: that ends the output, it is no error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
      throw err
    })
  }
  const { runCli } = await import('./program.ts')
  process.exitCode = await runCli(process.argv.slice(2))
}
