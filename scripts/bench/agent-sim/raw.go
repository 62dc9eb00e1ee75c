// -transport raw: the Transfer call grpc-go would make, written as HTTP/2 frames by agent-sim
// itself (golang.org/x/net/http2's Framer and hpack over crypto/tls). Per agent: one
// connection, one stream (id 1), one reader goroutine; a batch is one DATA frame and one TLS
// write. grpc-go's per-message machinery (loopyWriter, controlBuffer, per-message allocations)
// needed more than a core at 10,000 agents, which starved the server under test on 2 cores.
// A stream that ends (trailers, RST_STREAM, GOAWAY, lost connection) takes its connection with
// it: the agent reconnects (with backoff) and opens stream 1 on a new one.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
)

const (
	rawStreamID uint32 = 1
	// our SETTINGS_INITIAL_WINDOW_SIZE and connection receive window
	rawRecvWindow     = 1 << 20
	h2DefaultWindow   = 65535
	h2DefaultMaxFrame = 16384
	grpcPrefixBytes   = 5 // compressed flag, big-endian length
)

var errStreamEnded = errors.New("the stream ended")

// rawDialer is what every agent's raw connection shares.
type rawDialer struct {
	addr    string
	tls     *tls.Config         // nil: plaintext HTTP/2 (prior knowledge)
	headers []byte              // the call's HEADERS block, HPACK-encoded once for every connection
	comp    encoding.Compressor // the registered "snappy" or "gzip" (codec.go); nil: -compress none
}

// rawTransports returns a constructor of raw transports; tlsCfg nil: plaintext.
func rawTransports(c *config, tlsCfg *tls.Config) func() (transport, error) {
	d := &rawDialer{addr: c.ac}
	scheme := "http"
	if tlsCfg != nil {
		d.tls = tlsCfg.Clone()
		d.tls.NextProtos = []string{"h2"}
		scheme = "https"
	}
	fields := []hpack.HeaderField{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: scheme}, {Name: ":path", Value: transferMethod},
		{Name: ":authority", Value: c.ac}, {Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
		{Name: "user-agent", Value: "agent-sim (raw)"},
	}
	if c.compress != "none" {
		d.comp = encoding.GetCompressor(c.compress)
		fields = append(fields, hpack.HeaderField{Name: "grpc-encoding", Value: c.compress})
	}
	var b bytes.Buffer
	enc := hpack.NewEncoder(&b)
	// no dynamic table: the block is the same on every connection, whatever came before
	enc.SetMaxDynamicTableSizeLimit(0)
	for _, f := range fields {
		_ = enc.WriteField(f) // writes to a bytes.Buffer do not fail
	}
	d.headers = b.Bytes()
	return func() (transport, error) { return &rawTransport{d: d}, nil }
}

// rawTransport is one agent's: a connection between connect and open, then the stream's.
type rawTransport struct {
	d    *rawDialer
	conn *rawConn
}

func (t *rawTransport) connect(ctx context.Context) error {
	t.close()
	c, err := t.d.dial(ctx)
	if err != nil {
		return err
	}
	t.conn = c
	return nil
}

func (t *rawTransport) open(ctx context.Context) (transferStream, error) {
	c := t.conn
	if c == nil {
		return nil, errors.New("not connected")
	}
	t.conn = nil // the stream owns the connection now and closes it when ctx ends
	c.ctx = ctx
	context.AfterFunc(ctx, func() { _ = c.nc.Close() })
	err := c.write(func() error {
		return c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: rawStreamID, BlockFragment: c.d.headers, EndHeaders: true})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (t *rawTransport) close() {
	if t.conn != nil {
		_ = t.conn.nc.Close()
		t.conn = nil
	}
}

// rawConn is one HTTP/2 connection and its one Transfer stream.
type rawConn struct {
	d   *rawDialer
	nc  net.Conn
	bw  *bufio.Writer
	fr  *http2.Framer
	ctx context.Context // the stream's (set by open)

	// the framer's write side and bw: the sender writes DATA, the reader SETTINGS and PING
	// ACKs and WINDOW_UPDATEs
	wmu sync.Mutex

	// send flow control, from the server's SETTINGS and WINDOW_UPDATEs
	fmu                sync.Mutex
	connWin, streamWin int64
	peerInitialWin     int64
	maxFrame           int64
	wake               chan struct{} // a send window grew
	done               chan struct{} // the reader ended

	out appendWriter // the sender's: the message being sent, gRPC prefix + message

	// the reader's
	in                         []byte // a gRPC message not complete yet
	connUnacked, streamUnacked uint32 // DATA bytes received, not yet credited back
}

// appendWriter collects what a compressor writes.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// dial connects and exchanges the prefaces: ours (preface, SETTINGS, a connection
// WINDOW_UPDATE), then the server's SETTINGS, applied and acknowledged.
func (d *rawDialer) dial(ctx context.Context) (*rawConn, error) {
	nd := &net.Dialer{}
	var nc net.Conn
	var err error
	if d.tls != nil {
		nc, err = (&tls.Dialer{NetDialer: nd, Config: d.tls}).DialContext(ctx, "tcp", d.addr)
	} else {
		nc, err = nd.DialContext(ctx, "tcp", d.addr)
	}
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol != "h2" {
		_ = nc.Close()
		return nil, fmt.Errorf("the server did not negotiate h2 (ALPN %q)", tc.ConnectionState().NegotiatedProtocol)
	}
	c := &rawConn{d: d, nc: nc, bw: bufio.NewWriterSize(nc, connBufferBytes),
		connWin: h2DefaultWindow, streamWin: h2DefaultWindow, peerInitialWin: h2DefaultWindow, maxFrame: h2DefaultMaxFrame,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.fr = http2.NewFramer(c.bw, bufio.NewReaderSize(nc, connBufferBytes))
	c.fr.SetReuseFrames()
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	err = c.prefaces()
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = nc.SetDeadline(time.Time{})
	}
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return c, nil
}

func (c *rawConn) prefaces() error {
	err := c.write(func() error {
		if _, err := io.WriteString(c.bw, http2.ClientPreface); err != nil {
			return err
		}
		err := c.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: rawRecvWindow},
			http2.Setting{ID: http2.SettingEnablePush, Val: 0})
		if err != nil {
			return err
		}
		return c.fr.WriteWindowUpdate(0, rawRecvWindow-h2DefaultWindow)
	})
	if err != nil {
		return err
	}
	f, err := c.fr.ReadFrame()
	if err != nil {
		return fmt.Errorf("reading the server's preface: %w", err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		return fmt.Errorf("the server's preface is not SETTINGS but %v", f.Header())
	}
	return c.onSettings(sf)
}

// write runs framer writes under wmu, then flushes them (fn nil: just flush).
func (c *rawConn) write(fn func() error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if fn != nil {
		if err := fn(); err != nil {
			return err
		}
	}
	return c.bw.Flush()
}

// send frames msg as one gRPC message in DATA frames, within the send windows, in one flush.
func (c *rawConn) send(msg []byte) error {
	if len(msg) > maxMessageBytes {
		return status.Errorf(codes.ResourceExhausted, "trying to send message larger than max (%d vs. %d)", len(msg), maxMessageBytes)
	}
	c.out.b = append(c.out.b[:0], 0, 0, 0, 0, 0)
	if c.d.comp == nil {
		c.out.b = append(c.out.b, msg...)
	} else {
		c.out.b[0] = 1
		zw, err := c.d.comp.Compress(&c.out)
		if err == nil {
			_, err = zw.Write(msg)
		}
		if err == nil {
			err = zw.Close()
		}
		if err != nil {
			return fmt.Errorf("compress: %w", err)
		}
	}
	binary.BigEndian.PutUint32(c.out.b[1:grpcPrefixBytes], uint32(len(c.out.b)-grpcPrefixBytes))
	for p := c.out.b; ; {
		n, err := c.reserve(len(p))
		if err != nil {
			return err
		}
		c.wmu.Lock()
		err = c.fr.WriteData(rawStreamID, false, p[:n])
		p = p[n:]
		if err == nil && len(p) == 0 {
			err = c.bw.Flush()
		}
		c.wmu.Unlock()
		if err != nil || len(p) == 0 {
			return err
		}
	}
}

// reserve takes up to want bytes (at most a frame) of both send windows, waiting for them.
func (c *rawConn) reserve(want int) (int, error) {
	for {
		c.fmu.Lock()
		n := min(int64(want), c.connWin, c.streamWin, c.maxFrame)
		if n > 0 {
			c.connWin -= n
			c.streamWin -= n
		}
		c.fmu.Unlock()
		if n > 0 {
			return int(n), nil
		}
		// the server credits what it has received: send what is buffered before waiting
		if err := c.write(nil); err != nil {
			return 0, err
		}
		select {
		case <-c.wake:
		case <-c.done:
			return 0, errStreamEnded
		case <-c.ctx.Done():
			return 0, c.ctx.Err()
		}
	}
}

func (c *rawConn) closeSend() {
	_ = c.write(func() error { return c.fr.WriteData(rawStreamID, true, nil) })
}

// receive reads frames until the stream ends (nil: trailers with grpc-status 0).
func (c *rawConn) receive(handle func(msg []byte)) error {
	defer close(c.done)
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			if c.ctx.Err() != nil {
				return status.FromContextError(c.ctx.Err()).Err()
			}
			return status.Errorf(codes.Unavailable, "error reading from server: %v", err)
		}
		if end, err := c.onFrame(f, handle); end || err != nil {
			return err
		}
	}
}

// onFrame handles one frame; end: the stream is over (with err nil: status OK).
func (c *rawConn) onFrame(f http2.Frame, handle func(msg []byte)) (end bool, err error) {
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.onData(f, handle)
	case *http2.MetaHeadersFrame:
		if f.StreamID != rawStreamID {
			return false, nil
		}
		return onHeaders(f)
	case *http2.SettingsFrame:
		return false, c.onSettings(f)
	case *http2.PingFrame:
		if f.IsAck() {
			return false, nil
		}
		return false, c.write(func() error { return c.fr.WritePing(true, f.Data) })
	case *http2.WindowUpdateFrame:
		c.fmu.Lock()
		switch f.StreamID {
		case 0:
			c.connWin += int64(f.Increment)
		case rawStreamID:
			c.streamWin += int64(f.Increment)
		}
		c.fmu.Unlock()
		c.poke()
	case *http2.RSTStreamFrame:
		if f.StreamID == rawStreamID {
			return true, status.Errorf(codes.Internal, "stream terminated by RST_STREAM with error code: %v", f.ErrCode)
		}
	case *http2.GoAwayFrame:
		// a graceful GOAWAY that covers our stream lets it finish; anything else ends it
		if f.ErrCode != http2.ErrCodeNo || f.LastStreamID < rawStreamID {
			return true, status.Errorf(codes.Unavailable, "GOAWAY %v: %q", f.ErrCode, f.DebugData())
		}
	}
	return false, nil
}

func (c *rawConn) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		c.fmu.Lock()
		defer c.fmu.Unlock()
		switch s.ID {
		case http2.SettingInitialWindowSize:
			c.streamWin += int64(s.Val) - c.peerInitialWin
			c.peerInitialWin = int64(s.Val)
		case http2.SettingMaxFrameSize:
			c.maxFrame = int64(s.Val)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.poke()
	return c.write(c.fr.WriteSettingsAck)
}

// poke wakes a sender waiting for window.
func (c *rawConn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *rawConn) onData(f *http2.DataFrame, handle func(msg []byte)) (bool, error) {
	// flow control counts the whole frame, padding included
	c.connUnacked += f.Length
	if f.StreamID == rawStreamID {
		c.streamUnacked += f.Length
	}
	if c.connUnacked >= rawRecvWindow/2 || c.streamUnacked >= rawRecvWindow/2 {
		if err := c.write(c.credit); err != nil {
			return true, err
		}
	}
	if f.StreamID != rawStreamID {
		return false, nil
	}
	if err := c.messages(f.Data(), handle); err != nil {
		return true, err
	}
	if f.StreamEnded() {
		return true, status.Error(codes.Internal, "server closed the stream without sending trailers")
	}
	return false, nil
}

// credit gives the DATA received back to the server once half a window is used.
func (c *rawConn) credit() error {
	if c.connUnacked >= rawRecvWindow/2 {
		if err := c.fr.WriteWindowUpdate(0, c.connUnacked); err != nil {
			return err
		}
		c.connUnacked = 0
	}
	if c.streamUnacked >= rawRecvWindow/2 {
		if err := c.fr.WriteWindowUpdate(rawStreamID, c.streamUnacked); err != nil {
			return err
		}
		c.streamUnacked = 0
	}
	return nil
}

// messages splits the stream's DATA into gRPC messages (they may span frames) for handle.
func (c *rawConn) messages(p []byte, handle func(msg []byte)) error {
	if len(c.in) > 0 {
		c.in = append(c.in, p...)
		p = c.in
	}
	for len(p) >= grpcPrefixBytes {
		n := binary.BigEndian.Uint32(p[1:grpcPrefixBytes])
		if n > maxMessageBytes {
			return status.Errorf(codes.ResourceExhausted, "grpc: received message larger than max (%d vs. %d)", n, maxMessageBytes)
		}
		if uint32(len(p)-grpcPrefixBytes) < n {
			break
		}
		if p[0] != 0 {
			// we send no grpc-accept-encoding, so the server must not compress
			return status.Errorf(codes.Internal, "a message with compressed flag %d", p[0])
		}
		handle(p[grpcPrefixBytes : grpcPrefixBytes+n])
		p = p[grpcPrefixBytes+n:]
	}
	c.in = append(c.in[:0], p...) // the incomplete rest (copy handles the overlap)
	return nil
}

// onHeaders handles the response headers, and the trailers with the call's status.
func onHeaders(f *http2.MetaHeadersFrame) (bool, error) {
	httpStatus := f.PseudoValue("status")
	if !f.StreamEnded() {
		if httpStatus != "200" {
			return true, status.Errorf(codes.Unknown, "unexpected HTTP status %q", httpStatus)
		}
		return false, nil
	}
	code, msg := "", ""
	for _, h := range f.RegularFields() {
		switch h.Name {
		case "grpc-status":
			code = h.Value
		case "grpc-message":
			msg = h.Value
		}
	}
	if code == "" {
		if httpStatus != "" && httpStatus != "200" {
			return true, status.Errorf(codes.Unknown, "unexpected HTTP status %q", httpStatus)
		}
		return true, status.Error(codes.Internal, "the stream ended without a grpc-status")
	}
	n, err := strconv.ParseUint(code, 10, 32)
	if err != nil {
		return true, status.Errorf(codes.Internal, "malformed grpc-status %q", code)
	}
	if n == 0 {
		return true, nil
	}
	if m, err := url.PathUnescape(msg); err == nil { // grpc-message is percent-encoded
		msg = m
	}
	return true, status.Error(codes.Code(n), msg)
}
