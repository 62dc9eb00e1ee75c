// One simulated agent: its own connection (grpc-go's ClientConn, or raw HTTP/2 frames with
// -transport raw), one Transfer stream, a batch every -batch-interval (100 ms, Vigil's and
// Elkeid's default), a heartbeat (1000) at start and every 60 s, ack and command handling.
package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	heartbeatInterval = 60 * time.Second
	heartbeatType     = 1000
	benchTokenPrefix  = "bench:"
	transferMethod    = "/grpc.Transfer/Transfer"
	backoffMin        = time.Second
	backoffMax        = 10 * time.Second
)

// transport is one agent's way to the AC: grpcTransport (grpc-go, codec.go) or rawTransport
// (HTTP/2 frames written by hand, raw.go).
type transport interface {
	// connect returns once a connection is up (TCP, TLS, HTTP/2 prefaces) or ctx ends
	connect(ctx context.Context) error
	// open starts a Transfer stream on the connection; the stream ends with ctx
	open(ctx context.Context) (transferStream, error)
	close()
}

// transferStream is one Transfer call: PackagedData out, Command in.
type transferStream interface {
	// send sends one PackagedData (protobuf bytes, compressed as -compress says)
	send(msg []byte) error
	// receive passes each Command's bytes to handle until the stream ends (nil: it ended with status OK)
	receive(handle func(msg []byte)) error
	closeSend()
}

type pendingBatch struct {
	seq     uint64
	records int
}

type agent struct {
	cfg   *config
	st    *stats
	index int
	id    agentIdentity

	mu      sync.Mutex
	pending []pendingBatch // sent, not yet acknowledged (only with -seq)

	seq       uint64 // last batch seq sent
	recordSeq uint64 // last record counter (-records-field-seq)
	credit    float64
	nextHB    time.Time
	// encoded record fields around "seq", by the seq's digit count (the pad depends on it):
	// building and sorting a map per record was a fifth of the simulator's CPU
	parts map[int]*payloadParts
}

type payloadParts struct{ before, after []byte }

func newAgent(cfg *config, st *stats, i int) *agent {
	return &agent{cfg: cfg, st: st, index: i, id: agentIdentity{
		agentID:      fmt.Sprintf("%s-%d", cfg.idPrefix, i),
		intranetIPv4: []string{fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)},
		hostname:     fmt.Sprintf("%s-host-%d", cfg.idPrefix, i),
		version:      cfg.version,
		product:      cfg.product,
	}}
}

func (a *agent) pendingCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}

// run keeps one connection (and a stream on it) until ctx ends; sendCtx ends the sending.
func (a *agent) run(ctx, sendCtx context.Context, tr transport) {
	backoff := backoffMin
	for ctx.Err() == nil && sendCtx.Err() == nil {
		if err := a.connect(ctx, tr); err != nil {
			if ctx.Err() != nil {
				return
			}
			a.st.connectErrors.Add(1)
			a.st.noteError("connect", err)
		} else {
			a.st.addConnected(1)
			err := a.session(ctx, sendCtx, tr)
			a.st.addConnected(-1)
			if err == nil || ctx.Err() != nil {
				return
			}
			a.st.streamErrors.Add(1)
			a.st.noteError("stream", err)
			backoff = backoffMin
		}
		// spread reconnections: a random wait in [backoff/2, backoff)
		wait := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)))
		select {
		case <-ctx.Done():
			return
		case <-sendCtx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, backoffMax)
	}
}

// connect gives one connection attempt -connect-timeout.
func (a *agent) connect(ctx context.Context, tr transport) error {
	tctx, cancel := context.WithTimeout(ctx, a.cfg.connectTimeout)
	defer cancel()
	err := tr.connect(tctx)
	if err != nil && ctx.Err() == nil && tctx.Err() != nil {
		return fmt.Errorf("not connected after %s: %w", a.cfg.connectTimeout, err)
	}
	return err
}

// session runs one Transfer stream. It returns nil when the run ended normally.
func (a *agent) session(ctx, sendCtx context.Context, tr transport) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := tr.open(sctx)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	recvErr := make(chan error, 1)
	go func() { recvErr <- stream.receive(a.handleCommand) }()

	a.nextHB = time.Now() // heartbeat first: the first message names the agent
	if err := a.sendDue(stream); err != nil {
		return a.endSession(err, recvErr)
	}
	// random phase so 10,000 agents do not tick together
	phase := time.Duration(rand.Int64N(int64(a.cfg.batchInterval)))
	select {
	case <-time.After(phase):
	case <-sendCtx.Done():
	case err := <-recvErr:
		return a.streamEnded(err, sendCtx)
	}
	t := time.NewTicker(a.cfg.batchInterval)
	defer t.Stop()
	for sendCtx.Err() == nil {
		select {
		case <-t.C:
			if err := a.sendDue(stream); err != nil {
				return a.endSession(err, recvErr)
			}
		case <-sendCtx.Done():
		case err := <-recvErr:
			return a.streamEnded(err, sendCtx)
		}
	}
	// sending is over: keep receiving acks until ctx ends (the drain phase)
	select {
	case <-ctx.Done():
		stream.closeSend()
		return nil
	case err := <-recvErr:
		if err == nil {
			return nil
		}
		return a.streamEnded(err, sendCtx)
	}
}

func (a *agent) endSession(sendErr error, recvErr <-chan error) error {
	a.st.sendErrors.Add(1)
	a.dropPending()
	// a send fails (grpc-go: io.EOF) when the stream failed; the real status comes from receive
	select {
	case err := <-recvErr:
		if err != nil {
			return err
		}
	case <-time.After(time.Second):
	}
	return fmt.Errorf("send: %w", sendErr)
}

func (a *agent) streamEnded(err error, sendCtx context.Context) error {
	a.dropPending()
	if err == nil {
		if sendCtx.Err() != nil {
			return nil
		}
		return errors.New("server closed the stream")
	}
	return err
}

func (a *agent) dropPending() {
	a.mu.Lock()
	for _, p := range a.pending {
		a.st.unackedAtError.Add(int64(p.records))
	}
	a.pending = a.pending[:0]
	a.mu.Unlock()
}

// sendDue sends the records due this tick (and the heartbeat when due), if any.
func (a *agent) sendDue(stream transferStream) error {
	now := time.Now()
	a.credit += a.cfg.rate * a.cfg.batchInterval.Seconds()
	n := int(a.credit)
	a.credit -= float64(n)
	hb := !now.Before(a.nextHB)
	if n == 0 && !hb {
		return nil
	}
	ts := now.Unix()
	var b []byte
	if hb {
		b = appendRecord(b, heartbeatType, ts, appendPayload(nil, a.heartbeatFields()))
		a.nextHB = now.Add(heartbeatInterval)
	}
	for i := 0; i < n; i++ {
		a.recordSeq++
		b = appendRecord(b, a.cfg.dataType, ts, a.recordPayload())
	}
	records := n
	if hb {
		records++
	}
	var seq uint64
	if a.cfg.seq {
		a.seq++
		seq = a.seq
		a.mu.Lock()
		a.pending = append(a.pending, pendingBatch{seq: seq, records: records})
		a.mu.Unlock()
	}
	b = appendIdentity(b, &a.id, seq)
	if err := stream.send(b); err != nil {
		return err
	}
	a.st.batchesSent.Add(1)
	a.st.recordsSent.Add(int64(records))
	if hb {
		a.st.heartbeatsSent.Add(1)
	}
	return nil
}

// recordPayload is appendPayload(nil, a.recordFields()), from cached parts.
func (a *agent) recordPayload() []byte {
	if !a.cfg.recordsFieldSeq {
		return appendPayload(nil, a.recordFields())
	}
	seq := strconv.FormatUint(a.recordSeq, 10)
	p := a.parts[len(seq)]
	if p == nil {
		f := a.recordFields()
		before, after := map[string]string{}, map[string]string{}
		for k, v := range f {
			if k < "seq" {
				before[k] = v
			} else if k > "seq" {
				after[k] = v
			}
		}
		p = &payloadParts{before: appendPayload(nil, before), after: appendPayload(nil, after)}
		if a.parts == nil {
			a.parts = map[int]*payloadParts{}
		}
		a.parts[len(seq)] = p
	}
	b := make([]byte, 0, len(p.before)+len(p.after)+16+len(seq))
	b = append(b, p.before...)
	b = appendField(b, "seq", seq)
	return append(b, p.after...)
}

func (a *agent) recordFields() map[string]string {
	f := map[string]string{
		"pid": strconv.Itoa(1000 + a.index), "exe": "/usr/bin/agent-sim", "argv": "agent-sim -bench",
		"uid": "0", "comm": "agent-sim",
	}
	if a.cfg.recordsFieldSeq {
		f["seq"] = strconv.FormatUint(a.recordSeq, 10)
	}
	size := 0
	for k, v := range f {
		size += len(k) + len(v) + 4
	}
	if pad := a.cfg.payloadBytes - size - 7; pad > 0 {
		f["pad"] = strings.Repeat("x", pad)
	}
	return f
}

func (a *agent) heartbeatFields() map[string]string {
	return map[string]string{
		"kernel_version": "6.1.0-sim", "arch": "x86_64", "platform": "debian", "platform_family": "debian",
		"platform_version": "12", "state": "running", "state_detail": "", "idc": "sim", "region": "sim",
		"net_mode": "host", "cpu": "0.01", "rss": "52428800", "pid": strconv.Itoa(1000 + a.index),
		"nfd": "12", "start_time": strconv.FormatInt(time.Now().Unix(), 10), "nproc": "2",
		"hostname": a.id.hostname, "host_id": a.id.agentID,
	}
}

// handleCommand handles one Command message from the AC: acks, commands, "bench:" latency.
func (a *agent) handleCommand(b []byte) {
	now := time.Now()
	c, err := decodeCommand(b)
	if err != nil {
		a.st.badCommands.Add(1)
		return
	}
	if c.ackSeq > 0 {
		a.st.acksReceived.Add(1)
		a.ack(c.ackSeq)
	}
	if c.hasTask || c.agentCtrl != 0 {
		a.st.commandsReceived.Add(1)
	}
	if c.hasTask && strings.HasPrefix(c.task.token, benchTokenPrefix) {
		if ns, err := strconv.ParseInt(c.task.token[len(benchTokenPrefix):], 10, 64); err == nil {
			a.st.addLatency(float64(now.UnixNano()-ns) / 1e6)
		}
	}
}

func (a *agent) ack(ackSeq uint64) {
	a.mu.Lock()
	i := 0
	for ; i < len(a.pending) && a.pending[i].seq <= ackSeq; i++ {
		a.st.batchesAcked.Add(1)
		a.st.recordsAcked.Add(int64(a.pending[i].records))
	}
	a.pending = a.pending[i:]
	a.mu.Unlock()
}
