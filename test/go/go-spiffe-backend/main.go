// A SPIFFE backend written with the reference library, go-spiffe v2: its X.509-SVID and bundles
// come from a SPIFFE Workload API (workloadapi), it serves HTTPS over spiffetls (mTLS) and
// authorizes exactly one client SPIFFE ID. It prints what the Workload API delivered, then its
// address, and answers each request with the caller's SPIFFE ID.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

type connKey struct{}

func main() {
	socket := flag.String("socket", os.Getenv("SPIFFE_ENDPOINT_SOCKET"), "Workload API address")
	allow := flag.String("allow", "", "the only client SPIFFE ID served")
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	flag.Parse()
	ctx := context.Background()
	client := workloadapi.WithClientOptions(workloadapi.WithAddr(*socket))

	x509, err := workloadapi.FetchX509Context(ctx, workloadapi.WithAddr(*socket))
	if err != nil {
		fail("fetch x509 context: %v", err)
	}
	var domains []string
	for _, b := range x509.Bundles.Bundles() {
		domains = append(domains, fmt.Sprintf("%s=%d", b.TrustDomain(), len(b.X509Authorities())))
	}
	sort.Strings(domains)
	fmt.Printf("workloadapi: svid %s, bundles %s\n", x509.DefaultSVID().ID, strings.Join(domains, ","))

	id, err := spiffeid.FromString(*allow)
	if err != nil {
		fail("-allow: %v", err)
	}
	source, err := workloadapi.NewX509Source(ctx, client)
	if err != nil {
		fail("x509 source: %v", err)
	}
	defer source.Close()
	ln, err := spiffetls.ListenWithMode(ctx, "tcp", *listen, spiffetls.MTLSServerWithSource(tlsconfig.AuthorizeID(id), source))
	if err != nil {
		fail("listen: %v", err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	server := &http.Server{
		ConnContext: func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			peer, err := spiffetls.PeerIDFromConn(r.Context().Value(connKey{}).(net.Conn))
			if err != nil {
				http.Error(w, err.Error(), http.StatusForbidden)
				return
			}
			w.Header().Set("content-type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"peer": peer.String(), "self": x509.DefaultSVID().ID.String(), "path": r.URL.Path})
		}),
	}
	fail("serve: %v", server.Serve(ln))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
