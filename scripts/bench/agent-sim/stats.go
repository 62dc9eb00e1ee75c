// Counters shared by all simulated agents, the progress line and the final JSON report.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

type stats struct {
	connected        atomic.Int64 // agents with a live stream now
	connectedPeak    atomic.Int64
	connectErrors    atomic.Int64
	batchesSent      atomic.Int64
	recordsSent      atomic.Int64
	heartbeatsSent   atomic.Int64
	sendErrors       atomic.Int64
	batchesAcked     atomic.Int64
	recordsAcked     atomic.Int64
	commandsReceived atomic.Int64
	acksReceived     atomic.Int64
	badCommands      atomic.Int64
	streamErrors     atomic.Int64
	unackedAtError   atomic.Int64 // records whose batch was never acked before its stream failed

	mu         sync.Mutex
	latencies  []float64 // ms, fan-out latency of "bench:" tasks
	lastErrors map[string]int
}

func newStats() *stats { return &stats{lastErrors: map[string]int{}} }

func (s *stats) addConnected(d int64) {
	n := s.connected.Add(d)
	for {
		p := s.connectedPeak.Load()
		if n <= p || s.connectedPeak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (s *stats) addLatency(ms float64) {
	s.mu.Lock()
	s.latencies = append(s.latencies, ms)
	s.mu.Unlock()
}

// noteError keeps a few distinct error messages for the report (the first 10 kinds).
func (s *stats) noteError(kind string, err error) {
	msg := kind + ": " + err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	s.mu.Lock()
	if _, ok := s.lastErrors[msg]; ok || len(s.lastErrors) < 10 {
		s.lastErrors[msg]++
	}
	s.mu.Unlock()
}

type latencySummary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return round3(sorted[i])
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func (s *stats) latencySummary() latencySummary {
	s.mu.Lock()
	l := append([]float64(nil), s.latencies...)
	s.mu.Unlock()
	sort.Float64s(l)
	out := latencySummary{Count: len(l), P50: percentile(l, 0.5), P99: percentile(l, 0.99)}
	if len(l) > 0 {
		out.Max = round3(l[len(l)-1])
	}
	return out
}

type report struct {
	Agents           int            `json:"agents"`
	Connected        int64          `json:"connected"`
	ConnectedPeak    int64          `json:"connected_peak"`
	ConnectErrors    int64          `json:"connect_errors"`
	BatchesSent      int64          `json:"batches_sent"`
	RecordsSent      int64          `json:"records_sent"`
	HeartbeatsSent   int64          `json:"heartbeats_sent"`
	SendErrors       int64          `json:"send_errors"`
	BatchesAcked     int64          `json:"batches_acked"`
	RecordsAcked     int64          `json:"records_acked"`
	AcksReceived     int64          `json:"acks_received"`
	CommandsReceived int64          `json:"commands_received"`
	BadCommands      int64          `json:"bad_commands"`
	CmdLatencyMs     latencySummary `json:"cmd_latency_ms"`
	StreamErrors     int64          `json:"stream_errors"`
	UnackedAtError   int64          `json:"records_unacked_at_stream_error"`
	SendPhaseS       float64        `json:"send_phase_s"`
	ElapsedS         float64        `json:"elapsed_s"`
	Compress         string         `json:"compress"`
	Errors           map[string]int `json:"errors,omitempty"`
}

func (s *stats) report(agents int, connectedAtEnd int64, sendPhase, elapsed time.Duration, compress string) report {
	s.mu.Lock()
	errs := make(map[string]int, len(s.lastErrors))
	for k, v := range s.lastErrors {
		errs[k] = v
	}
	s.mu.Unlock()
	return report{
		Agents: agents, Connected: connectedAtEnd, ConnectedPeak: s.connectedPeak.Load(),
		ConnectErrors: s.connectErrors.Load(), BatchesSent: s.batchesSent.Load(),
		RecordsSent: s.recordsSent.Load(), HeartbeatsSent: s.heartbeatsSent.Load(),
		SendErrors: s.sendErrors.Load(), BatchesAcked: s.batchesAcked.Load(),
		RecordsAcked: s.recordsAcked.Load(), AcksReceived: s.acksReceived.Load(),
		CommandsReceived: s.commandsReceived.Load(), BadCommands: s.badCommands.Load(),
		CmdLatencyMs: s.latencySummary(), StreamErrors: s.streamErrors.Load(),
		UnackedAtError: s.unackedAtError.Load(),
		SendPhaseS:     round3(sendPhase.Seconds()), ElapsedS: round3(elapsed.Seconds()),
		Compress: compress, Errors: errs,
	}
}

func writeJSON(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintln(w, string(b))
}

// progress prints one line to w every interval until done is closed.
func (s *stats) progress(w io.Writer, agents int, interval time.Duration, start time.Time, done <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastSent, lastAcked int64
	last := start
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			sent, acked := s.recordsSent.Load(), s.recordsAcked.Load()
			dt := now.Sub(last).Seconds()
			fmt.Fprintf(w, "agent-sim: t=%.0fs connected=%d/%d connect_errors=%d records/s sent=%.0f acked=%.0f total sent=%d acked=%d commands=%d stream_errors=%d\n",
				now.Sub(start).Seconds(), s.connected.Load(), agents, s.connectErrors.Load(),
				float64(sent-lastSent)/dt, float64(acked-lastAcked)/dt, sent, acked,
				s.commandsReceived.Load(), s.streamErrors.Load())
			lastSent, lastAcked, last = sent, acked, now
		}
	}
}
