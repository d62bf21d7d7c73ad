// `npm run cli -- …` and `npm start`: npm runs scripts in the package's directory, but a user
// names files relative to the directory they typed the command in, which npm passes as
// INIT_CWD. Run the CLI there, as the installed `spiffe-lb` bin would run.
const initCwd = process.env.INIT_CWD
if (initCwd !== undefined && initCwd !== '') process.chdir(initCwd)
await import('../src/cli/main.ts')
