import t from 'tap'

// spiffe-lb targets Node 24 LTS (Node 20 lacks TLS fixes such as resumed sessions not being
// bound to the authenticated host). The project brings its own Node through npm; this proves
// the tests really run on it and not on whatever node is first on the machine's PATH.
t.test('tests run on node 24', async (t) => {
  t.equal(process.versions.node.split('.')[0], '24', `running on node ${process.versions.node}`)
  t.match(process.versions.openssl, /^3\./)
})
