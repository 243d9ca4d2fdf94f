// Command fakeminer behaves like an XMRig-style miner from the outside — it
// takes XMRig's flags or config.json, resolves its pool through DNS, logs in
// over stratum with a wallet and keeps a core busy — but it never hashes, and
// it refuses to run anywhere but a loopback-only network namespace, so it
// cannot reach a real pool. It is played by cmd/chainsim.
//
// Simulator knobs come from the environment, so that argv stays XMRig-like:
//
//	CHAINSIM_DURATION  how long to burn CPU (default 2s, at most 10s)
//	CHAINSIM_FPU=1     switch MXCSR rounding modes like RandomX
//	CHAINSIM_MEMFD=1   re-execute itself from a memfd first (fileless start)
//	CHAINSIM_COMM      rename the process (through /proc/self/comm) after start
//	CHAINSIM_MODE=fpu-once  no miner at all: a numeric program that sets one
//	                   rounding mode at start and keeps it (a look-alike)
//
// With no pool in flags or config files, fakeminer reads "URL WALLET" from a
// piped stdin: the stand-in for a pool compiled into the binary, which leaves
// no string in argv, environment or files.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

const maxDuration = 10 * time.Second

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakeminer:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if os.Getenv("CHAINSIM_MEMFD") == "1" {
		if err := reexecFromMemfd(); err != nil {
			return fmt.Errorf("memfd: %w", err)
		}
	}
	if comm := os.Getenv("CHAINSIM_COMM"); comm != "" {
		if err := setComm(comm); err != nil {
			return fmt.Errorf("rename: %w", err)
		}
	}
	if os.Getenv("CHAINSIM_MODE") == "fpu-once" {
		burnFixedRounding(durationFromEnv())
		return nil
	}
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	if err := loadConfigFile(opts); err != nil {
		return err
	}
	if opts.URL == "" {
		readBuiltin(opts)
	}
	if opts.URL == "" {
		return errors.New("no pool: give -o/--url or a config.json with pools[].url")
	}
	if err := requireLoopbackOnly(); err != nil {
		return err
	}
	d := durationFromEnv()
	conn, err := dialPool(opts.URL, opts.TLS)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := login(conn, opts); err != nil {
		return err
	}
	fmt.Printf("fakeminer: logged in to %s as %s, burning %s\n", opts.URL, opts.User, d)
	burn(d, os.Getenv("CHAINSIM_FPU") == "1" && fpuSupported)
	return nil
}

// durationFromEnv reads CHAINSIM_DURATION (default 2s, capped at maxDuration).
func durationFromEnv() time.Duration {
	d, err := time.ParseDuration(os.Getenv("CHAINSIM_DURATION"))
	if err != nil || d <= 0 {
		d = 2 * time.Second
	}
	return min(d, maxDuration)
}

// requireLoopbackOnly is the safety interlock: the miner only runs where the
// only network interface is loopback (the simulator's namespace).
func requireLoopbackOnly() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("refusing to run: network interface %s is not loopback (run me inside chainsim's network namespace)", i.Name)
		}
	}
	return nil
}

// dialPool resolves the pool (through the namespace's resolv.conf, i.e. the
// fake DNS server; see poolResolver) and connects, accepting loopback
// addresses only.
func dialPool(url string, useTLS bool) (net.Conn, error) {
	hostport := url
	if i := strings.Index(hostport, "://"); i >= 0 {
		useTLS = useTLS || strings.Contains(hostport[:i], "ssl") || strings.Contains(hostport[:i], "tls")
		hostport = hostport[i+3:]
	}
	hostport = strings.TrimSuffix(hostport, "/")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, fmt.Errorf("pool url %q: %w", url, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var addrs []string
	if ip := net.ParseIP(host); ip != nil {
		addrs = []string{ip.String()}
	} else {
		r, err := poolResolver()
		if err != nil {
			return nil, err
		}
		if addrs, err = r.LookupHost(ctx, host); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("refusing to connect to %s: not a loopback address", a)
		}
	}
	var d net.Dialer
	addr := net.JoinHostPort(addrs[0], port)
	if useTLS {
		// The pool is chainsim's, with a throw-away certificate, on loopback.
		td := &tls.Dialer{NetDialer: &d, Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // fake pool on loopback
		return td.DialContext(ctx, "tcp", addr)
	}
	return d.DialContext(ctx, "tcp", addr)
}

// readBuiltin takes "URL WALLET" from a piped stdin (never from a terminal).
func readBuiltin(o *options) {
	st, err := os.Stdin.Stat()
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	line, _ := bufio.NewReader(io.LimitReader(os.Stdin, 4096)).ReadString('\n')
	if f := strings.Fields(line); len(f) >= 2 {
		o.URL, o.User = f[0], f[1]
	}
}

// login sends an XMRig-style JSON-RPC login and waits for the job.
func login(conn net.Conn, o *options) error {
	req := map[string]any{
		"id": 1, "jsonrpc": "2.0", "method": "login",
		"params": map[string]any{
			"login": o.User, "pass": o.Pass, "rigid": o.RigID,
			"agent": "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0",
			"algo":  []string{o.Algo},
		},
	}
	b, _ := json.Marshal(req)
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("login reply: %w", err)
	}
	var reply struct {
		Result struct {
			Status string `json:"status"`
		} `json:"result"`
	}
	if err := json.Unmarshal(line, &reply); err != nil || reply.Result.Status != "OK" {
		return fmt.Errorf("login refused: %s", strings.TrimSpace(string(line)))
	}
	_ = conn.SetDeadline(time.Time{})
	return nil
}
