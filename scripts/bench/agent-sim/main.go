// agent-sim: many simulated Elkeid/Vigil agents in one lightweight process, each with its own
// mutual-TLS gRPC connection and Transfer stream, for the AC benchmark (scripts/bench/ac.ts)
// and interop tests. Prints one JSON report on stdout at exit, progress on stderr every 5 s.
// -transport grpc uses grpc-go; -transport raw writes the same protocol as HTTP/2 frames
// itself (raw.go), which costs the simulator less CPU per message.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"
)

const (
	maxMessageBytes  = 10 << 20 // MAX_MESSAGE_BYTES in src/common/wire.ts
	progressInterval = 5 * time.Second
	connBufferBytes  = 8 << 10 // small per-connection buffers: 10,000 connections in one process
)

type config struct {
	ac, ca, cert, key, serverName string
	agents                        int
	rate                          float64
	duration, ramp, drain         time.Duration
	batchInterval                 time.Duration
	connectTimeout                time.Duration
	compress, transport           string
	seq, recordsFieldSeq          bool
	idPrefix, product, version    string
	payloadBytes                  int
	dataType                      int32
	cpuProfile                    string
}

func parseFlags() (*config, error) {
	c := &config{}
	dt := 59
	flag.StringVar(&c.ac, "ac", "", "AC gRPC address host:port (required)")
	flag.StringVar(&c.ca, "ca", "", "CA certificate (PEM) that signed the AC's certificate")
	flag.StringVar(&c.cert, "cert", "", "agent client certificate (PEM)")
	flag.StringVar(&c.key, "key", "", "agent client key (PEM)")
	flag.StringVar(&c.serverName, "server-name", "", "TLS server name (default: the -ac host)")
	flag.IntVar(&c.agents, "agents", 1, "number of agents, each with its own connection")
	flag.Float64Var(&c.rate, "rate", 10, "records per second per agent (sent every -batch-interval)")
	flag.DurationVar(&c.batchInterval, "batch-interval", 100*time.Millisecond, "send the records due every this long (an agent's batch interval)")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "how long to send (0 = until SIGTERM/SIGINT)")
	flag.DurationVar(&c.ramp, "ramp", 0, "spread the connects over this time")
	flag.DurationVar(&c.drain, "drain", 5*time.Second, "after sending, wait at most this long for acks (-seq)")
	flag.DurationVar(&c.connectTimeout, "connect-timeout", 60*time.Second, "give up one connect attempt after this")
	flag.StringVar(&c.compress, "compress", "snappy", "gRPC compression: snappy|gzip|none")
	flag.StringVar(&c.transport, "transport", "grpc", "grpc (grpc-go) or raw (the same gRPC protocol as HTTP/2 frames written by agent-sim: less CPU per message)")
	flag.BoolVar(&c.seq, "seq", false, "Vigil mode: PackagedData.seq (100) per batch; count acks (Command.ack_seq)")
	flag.BoolVar(&c.recordsFieldSeq, "records-field-seq", false, `put a "seq" field (per-agent record counter) into each record`)
	flag.StringVar(&c.idPrefix, "id-prefix", "sim", "agent ids are <prefix>-<n>")
	flag.StringVar(&c.product, "product", "", "PackagedData.product (default vigil-agent with -seq, else elkeid-agent)")
	flag.StringVar(&c.version, "version", "1.9.1-sim", "PackagedData.version")
	flag.IntVar(&c.payloadBytes, "payload-bytes", 200, "approximate size of each record's fields")
	flag.IntVar(&dt, "data-type", 59, "data_type of the records (heartbeats are 1000)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the simulator to this file")
	flag.Parse()
	c.dataType = int32(dt)
	switch {
	case flag.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", flag.Arg(0))
	case c.ac == "":
		return nil, fmt.Errorf("-ac host:port is required")
	case c.agents < 1:
		return nil, fmt.Errorf("-agents must be ≥ 1, got %d", c.agents)
	case c.batchInterval < time.Millisecond:
		return nil, fmt.Errorf("-batch-interval must be ≥ 1ms, got %s", c.batchInterval)
	case c.rate < 0:
		return nil, fmt.Errorf("-rate must be ≥ 0, got %g", c.rate)
	case c.compress != "snappy" && c.compress != "gzip" && c.compress != "none":
		return nil, fmt.Errorf("-compress must be snappy, gzip or none, got %q", c.compress)
	case c.transport != "grpc" && c.transport != "raw":
		return nil, fmt.Errorf("-transport must be grpc or raw, got %q", c.transport)
	case (c.ca != "" || c.cert != "" || c.key != "") && (c.ca == "" || c.cert == "" || c.key == ""):
		return nil, fmt.Errorf("mTLS needs all of -ca, -cert and -key")
	}
	host, _, err := net.SplitHostPort(c.ac)
	if err != nil {
		return nil, fmt.Errorf("-ac %q: %v", c.ac, err)
	}
	if c.serverName == "" {
		c.serverName = host
	}
	if c.product == "" {
		c.product = "elkeid-agent"
		if c.seq {
			c.product = "vigil-agent"
		}
	}
	return c, nil
}

// clientTLS is the agents' mutual-TLS configuration; nil without -ca (plaintext).
func clientTLS(c *config) (*tls.Config, error) {
	if c.ca == "" {
		return nil, nil
	}
	caPEM, err := os.ReadFile(c.ca)
	if err != nil {
		return nil, fmt.Errorf("-ca: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("-ca %s: no PEM certificate in it", c.ca)
	}
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return nil, fmt.Errorf("-cert/-key: %v", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, ServerName: c.serverName, MinVersion: tls.VersionTLS12}, nil
}

// transports returns a constructor of one agent's transport, as -transport says.
func transports(c *config) (func() (transport, error), error) {
	tlsCfg, err := clientTLS(c)
	if err != nil {
		return nil, err
	}
	if c.transport == "raw" {
		return rawTransports(c, tlsCfg), nil
	}
	return grpcTransports(c, tlsCfg), nil
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintf(os.Stderr, "agent-sim: %v\n", err)
		os.Exit(2)
	}
	newTransport, err := transports(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "agent-sim: %v\n", err)
		os.Exit(2)
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "agent-sim: -cpuprofile: %v\n", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "agent-sim: -cpuprofile: %v\n", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	st := newStats()
	start := time.Now()

	ctx, cancel := context.WithCancel(context.Background())
	sendCtx, stopSending := context.WithCancel(ctx)
	if cfg.duration > 0 {
		time.AfterFunc(cfg.duration, stopSending)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		stopSending()
		<-sigs
		cancel() // a second signal skips the drain
	}()
	progressDone := make(chan struct{})
	go st.progress(os.Stderr, cfg.agents, progressInterval, start, progressDone)

	agents := make([]*agent, cfg.agents)
	var wg sync.WaitGroup
	for i := range agents {
		agents[i] = newAgent(cfg, st, i)
		tr, err := newTransport()
		if err != nil {
			fmt.Fprintf(os.Stderr, "agent-sim: %v\n", err)
			os.Exit(2)
		}
		delay := time.Duration(0)
		if cfg.ramp > 0 {
			delay = cfg.ramp * time.Duration(i) / time.Duration(cfg.agents)
		}
		wg.Add(1)
		go func(a *agent) {
			defer wg.Done()
			defer tr.close()
			select {
			case <-time.After(delay):
				a.run(ctx, sendCtx, tr)
			case <-sendCtx.Done():
			}
		}(agents[i])
	}

	<-sendCtx.Done()
	sendPhase := time.Since(start)
	connectedAtEnd := st.connected.Load()
	if cfg.seq {
		deadline := time.Now().Add(cfg.drain)
		for time.Now().Before(deadline) && ctx.Err() == nil && anyPending(agents) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	cancel()
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		fmt.Fprintln(os.Stderr, "agent-sim: some connections did not close within 5 s")
	}
	close(progressDone)
	writeJSON(os.Stdout, st.report(cfg.agents, connectedAtEnd, sendPhase, time.Since(start), cfg.compress))
}

func anyPending(agents []*agent) bool {
	for _, a := range agents {
		if a.pendingCount() > 0 {
			return true
		}
	}
	return false
}
