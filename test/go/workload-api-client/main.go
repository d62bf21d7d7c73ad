// A SPIFFE Workload API client written against grpc-go, the stack SPIRE and go-spiffe use, for
// the interop tests of spiffe-lb: it opens FetchX509SVID with the workload.spiffe.io header,
// decodes each message with protowire by hand, checks that the private key belongs to the leaf,
// and prints one JSON line per message. It exits 0 after -n messages.
//
//	workload-api-client -socket /path/agent.sock -n 2
package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"reflect"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"
)

type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// Line is what is printed per message.
type Line struct {
	ID         string   `json:"id"`
	Serial     string   `json:"serial"`
	KeyMatches bool     `json:"keyMatches"`
	BundleSize int      `json:"bundleCerts"`
	Federated  []string `json:"federated"`
}

func fields(b []byte, fn func(num protowire.Number, v []byte)) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			panic(protowire.ParseError(n))
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				panic(protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			panic(protowire.ParseError(n))
		}
		b = b[n:]
		fn(num, v)
	}
}

func decode(msg []byte) Line {
	var line Line
	line.Federated = []string{}
	fields(msg, func(num protowire.Number, v []byte) {
		switch num {
		case 1:
			if line.ID != "" {
				return
			}
			var chain, key, bundle []byte
			fields(v, func(n protowire.Number, f []byte) {
				switch n {
				case 1:
					line.ID = string(f)
				case 2:
					chain = f
				case 3:
					key = f
				case 4:
					bundle = f
				}
			})
			certs, err := x509.ParseCertificates(chain)
			if err != nil || len(certs) == 0 {
				panic(fmt.Sprintf("x509_svid: %v", err))
			}
			line.Serial = certs[0].SerialNumber.Text(16)
			priv, err := x509.ParsePKCS8PrivateKey(key)
			if err != nil {
				panic(fmt.Sprintf("x509_svid_key: %v", err))
			}
			pub := priv.(crypto.Signer).Public()
			line.KeyMatches = reflect.DeepEqual(pub, certs[0].PublicKey)
			roots, err := x509.ParseCertificates(bundle)
			if err != nil {
				panic(fmt.Sprintf("bundle: %v", err))
			}
			line.BundleSize = len(roots)
		case 3:
			fields(v, func(n protowire.Number, f []byte) {
				if n == 1 {
					line.Federated = append(line.Federated, string(f))
				}
			})
		}
	})
	return line
}

func main() {
	socket := flag.String("socket", "", "unix socket path")
	count := flag.Int("n", 1, "messages to read")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "passthrough:///workload-api", grpc.WithInsecure(), grpc.WithBlock(),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", *socket)
		}))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	defer conn.Close()
	ctx = metadata.AppendToOutgoingContext(ctx, "workload.spiffe.io", "true")
	desc := &grpc.StreamDesc{StreamName: "FetchX509SVID", ServerStreams: true}
	stream, err := conn.NewStream(ctx, desc, "/SpiffeWorkloadAPI/FetchX509SVID", grpc.ForceCodec(rawCodec{}))
	if err != nil {
		fmt.Fprintln(os.Stderr, "stream:", err)
		os.Exit(1)
	}
	req := []byte{}
	if err := stream.SendMsg(&req); err != nil {
		fmt.Fprintln(os.Stderr, "send:", err)
		os.Exit(1)
	}
	stream.CloseSend()
	for i := 0; i < *count; i++ {
		var msg []byte
		if err := stream.RecvMsg(&msg); err != nil {
			fmt.Fprintln(os.Stderr, "recv:", err)
			os.Exit(1)
		}
		out, _ := json.Marshal(decode(msg))
		fmt.Println(string(out))
	}
}
