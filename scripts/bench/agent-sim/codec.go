// gRPC plumbing for grpc-go without generated code (-transport grpc): a transport with one
// ClientConn per agent, a codec that passes raw protobuf bytes through, and the "snappy"
// compressor exactly as Elkeid's agent registers it (snappy framing format via
// snappy.NewBufferedWriter / snappy.NewReader, pooled). "gzip" comes from grpc's encoding/gzip.
// -transport raw (raw.go) uses the same registered compressors.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/golang/snappy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // registers "gzip"
)

var transferDesc = &grpc.StreamDesc{StreamName: "Transfer", ServerStreams: true, ClientStreams: true}

// grpcTransports returns a constructor of grpc-go transports; tlsCfg nil: plaintext.
func grpcTransports(c *config, tlsCfg *tls.Config) func() (transport, error) {
	creds := insecure.NewCredentials()
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithReadBufferSize(connBufferBytes),
		grpc.WithWriteBufferSize(connBufferBytes),
		grpc.WithSharedWriteBuffer(true),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
		grpc.WithUserAgent("agent-sim"),
	}
	callOpts := []grpc.CallOption{grpc.ForceCodec(rawCodec{})}
	if c.compress != "none" {
		callOpts = append(callOpts, grpc.UseCompressor(c.compress))
	}
	return func() (transport, error) {
		conn, err := grpc.NewClient("passthrough:///"+c.ac, dialOpts...)
		if err != nil {
			return nil, err
		}
		return &grpcTransport{conn: conn, callOpts: callOpts}, nil
	}
}

// grpcTransport is one agent's grpc.ClientConn (its own TLS connection, reconnected by grpc-go).
type grpcTransport struct {
	conn     *grpc.ClientConn
	callOpts []grpc.CallOption
}

// connect waits until the transport (TLS + HTTP/2 preface) is up.
func (t *grpcTransport) connect(ctx context.Context) error {
	t.conn.Connect()
	for {
		s := t.conn.GetState()
		switch s {
		case connectivity.Ready:
			return nil
		case connectivity.TransientFailure:
			return errors.New("transient failure (TLS or TCP refused)")
		case connectivity.Shutdown:
			return errors.New("connection shut down")
		case connectivity.Idle:
			t.conn.Connect()
		}
		if !t.conn.WaitForStateChange(ctx, s) {
			return fmt.Errorf("state %s", s)
		}
	}
}

func (t *grpcTransport) open(ctx context.Context) (transferStream, error) {
	s, err := t.conn.NewStream(ctx, transferDesc, transferMethod, t.callOpts...)
	if err != nil {
		return nil, err
	}
	return grpcStream{s}, nil
}

func (t *grpcTransport) close() { _ = t.conn.Close() }

type grpcStream struct{ grpc.ClientStream }

func (s grpcStream) send(msg []byte) error { return s.SendMsg(&msg) }

func (s grpcStream) closeSend() { _ = s.CloseSend() }

func (s grpcStream) receive(handle func(msg []byte)) error {
	var b []byte
	for {
		if err := s.RecvMsg(&b); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		handle(b)
	}
}

// rawCodec marshals *[]byte as itself. Named "proto" so the content-type stays application/grpc+proto.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case *[]byte:
		return *m, nil
	case []byte:
		return m, nil
	}
	return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	m, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*m = append((*m)[:0], data...)
	return nil
}

// snappyCompressor mirrors Elkeid agent/transport/compressor/snappy.go.
type snappyCompressor struct {
	writers sync.Pool
	readers sync.Pool
}

type snappyWriter struct {
	*snappy.Writer
	pool *sync.Pool
}

func (w *snappyWriter) Close() error {
	defer w.pool.Put(w)
	return w.Writer.Close()
}

type snappyReader struct {
	*snappy.Reader
	pool *sync.Pool
}

func (r *snappyReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == io.EOF {
		r.pool.Put(r)
	}
	return n, err
}

func (c *snappyCompressor) Name() string { return "snappy" }

func (c *snappyCompressor) Compress(w io.Writer) (io.WriteCloser, error) {
	if sw, ok := c.writers.Get().(*snappyWriter); ok {
		sw.Reset(w)
		return sw, nil
	}
	return &snappyWriter{Writer: snappy.NewBufferedWriter(w), pool: &c.writers}, nil
}

func (c *snappyCompressor) Decompress(r io.Reader) (io.Reader, error) {
	if sr, ok := c.readers.Get().(*snappyReader); ok {
		sr.Reset(r)
		return sr, nil
	}
	return &snappyReader{Reader: snappy.NewReader(r), pool: &c.readers}, nil
}

func init() { encoding.RegisterCompressor(&snappyCompressor{}) }
