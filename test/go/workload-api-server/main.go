// A SPIFFE Workload API server written against grpc-go, the stack SPIRE uses, for the interop
// tests of spiffe-lb. It is deliberately independent of spiffe-lb's own wire code: messages are
// encoded with protowire by hand from the field numbers of workload.proto.
//
// It serves FetchX509SVID from a JSON state file, re-read on SIGHUP and pushed as a full state on
// every open stream, and answers InvalidArgument without the workload.spiffe.io header.
//
//	workload-api-server -socket /path/agent.sock -state /path/state.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// State is the full state served; []byte fields are base64 in JSON.
type State struct {
	Svids []struct {
		ID     string `json:"id"`
		Chain  []byte `json:"chain"`
		Key    []byte `json:"key"`
		Bundle []byte `json:"bundle"`
	} `json:"svids"`
	Federated map[string][]byte `json:"federated"`
}

// rawCodec passes already-encoded protobuf bytes through.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) String() string { return "proto" }

func encode(s *State) []byte {
	var out []byte
	for _, sv := range s.Svids {
		var m []byte
		m = protowire.AppendTag(m, 1, protowire.BytesType)
		m = protowire.AppendString(m, sv.ID)
		m = protowire.AppendTag(m, 2, protowire.BytesType)
		m = protowire.AppendBytes(m, sv.Chain)
		m = protowire.AppendTag(m, 3, protowire.BytesType)
		m = protowire.AppendBytes(m, sv.Key)
		m = protowire.AppendTag(m, 4, protowire.BytesType)
		m = protowire.AppendBytes(m, sv.Bundle)
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, m)
	}
	for td, der := range s.Federated {
		var e []byte
		e = protowire.AppendTag(e, 1, protowire.BytesType)
		e = protowire.AppendString(e, td)
		e = protowire.AppendTag(e, 2, protowire.BytesType)
		e = protowire.AppendBytes(e, der)
		out = protowire.AppendTag(out, 3, protowire.BytesType)
		out = protowire.AppendBytes(out, e)
	}
	return out
}

type server struct {
	mu      sync.Mutex
	state   []byte
	streams map[chan []byte]struct{}
}

func (s *server) fetch(_ interface{}, stream grpc.ServerStream) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	if v := md.Get("workload.spiffe.io"); len(v) != 1 || v[0] != "true" {
		return status.Error(codes.InvalidArgument, "security header missing from request")
	}
	var req []byte
	if err := stream.RecvMsg(&req); err != nil {
		return err
	}
	ch := make(chan []byte, 16)
	s.mu.Lock()
	s.streams[ch] = struct{}{}
	first := s.state
	s.mu.Unlock()
	defer func() { s.mu.Lock(); delete(s.streams, ch); s.mu.Unlock() }()
	if err := stream.SendMsg(&first); err != nil {
		return err
	}
	for {
		select {
		case msg := <-ch:
			if err := stream.SendMsg(&msg); err != nil {
				return err
			}
		case <-stream.Context().Done():
			return nil
		}
	}
}

func (s *server) load(path string) error {
	raw, err := ioutil.ReadFile(path)
	if err != nil {
		return err
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	msg := encode(&st)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = msg
	for ch := range s.streams {
		ch <- msg
	}
	return nil
}

func main() {
	socket := flag.String("socket", "", "unix socket path")
	statePath := flag.String("state", "", "JSON state file")
	flag.Parse()
	s := &server{streams: map[chan []byte]struct{}{}}
	if err := s.load(*statePath); err != nil {
		fmt.Fprintln(os.Stderr, "state:", err)
		os.Exit(2)
	}
	os.Remove(*socket)
	lis, err := net.Listen("unix", *socket)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(2)
	}
	g := grpc.NewServer(grpc.CustomCodec(rawCodec{}))
	g.RegisterService(&grpc.ServiceDesc{
		ServiceName: "SpiffeWorkloadAPI",
		HandlerType: (*interface{})(nil),
		Streams: []grpc.StreamDesc{{
			StreamName:    "FetchX509SVID",
			Handler:       s.fetch,
			ServerStreams: true,
		}},
	}, s)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if err := s.load(*statePath); err != nil {
				fmt.Fprintln(os.Stderr, "reload:", err)
				continue
			}
			fmt.Println("reloaded")
		}
	}()
	fmt.Println("listening on unix://" + *socket)
	if err := g.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
