// gRPC plumbing without generated code: a codec that passes raw protobuf bytes through, and
// the "snappy" compressor exactly as Elkeid's agent registers it (snappy framing format via
// snappy.NewBufferedWriter / snappy.NewReader, pooled). "gzip" comes from grpc's encoding/gzip.
package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/golang/snappy"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // registers "gzip"
)

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
