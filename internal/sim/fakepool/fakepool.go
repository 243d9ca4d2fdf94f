// Package fakepool holds a fake stratum pool that accepts an XMRig-style login, hands out a job with
// no real work and records who logged in; it must not know real pools or any mining algorithm.
package fakepool // import "github.com/cryptochain-otel/cryptochain/internal/sim/fakepool"

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"time"
)

// Login is one accepted login.
type Login struct {
	Wallet string
	Agent  string
	Method string
}

// Pool serves stratum on one listener.
type Pool struct {
	l      net.Listener
	mu     sync.Mutex
	logins []Login
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

type request struct {
	ID     any             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// Serve starts answering on l until Close.
func Serve(l net.Listener) *Pool {
	p := &Pool{l: l, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p
}

// Addr is the listening address.
func (p *Pool) Addr() net.Addr { return p.l.Addr() }

// Logins returns the logins accepted so far.
func (p *Pool) Logins() []Login {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Login(nil), p.logins...)
}

// Close stops the pool and waits for every connection handler.
func (p *Pool) Close() error {
	err := p.l.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (p *Pool) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Pool) serve(c net.Conn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		_ = c.Close()
	}()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 4096), 64*1024)
	enc := json.NewEncoder(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if !sc.Scan() {
			return
		}
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			_ = enc.Encode(map[string]any{"id": nil, "error": map[string]any{"code": -32700, "message": "parse error"}})
			return
		}
		_ = enc.Encode(p.reply(req))
	}
}

func (p *Pool) reply(req request) map[string]any {
	switch req.Method {
	case "login":
		var params struct {
			Login string `json:"login"`
			Agent string `json:"agent"`
		}
		_ = json.Unmarshal(req.Params, &params)
		p.record(Login{Wallet: params.Login, Agent: params.Agent, Method: req.Method})
		return map[string]any{"id": req.ID, "jsonrpc": "2.0", "error": nil, "result": map[string]any{
			"id":     "chainsim",
			"status": "OK",
			// A job that is all zeroes: there is nothing to hash for real.
			"job": map[string]any{"blob": zeroHex(76), "job_id": "1", "target": "ffffffff", "algo": "rx/0", "height": 1, "seed_hash": zeroHex(32)},
		}}
	case "mining.subscribe":
		return map[string]any{"id": req.ID, "error": nil, "result": []any{[]any{}, "00", 4}}
	case "mining.authorize":
		var params []string
		_ = json.Unmarshal(req.Params, &params)
		if len(params) > 0 {
			p.record(Login{Wallet: params[0], Method: req.Method})
		}
		return map[string]any{"id": req.ID, "error": nil, "result": true}
	case "keepalived", "submit":
		return map[string]any{"id": req.ID, "jsonrpc": "2.0", "error": nil, "result": map[string]any{"status": "OK"}}
	}
	return map[string]any{"id": req.ID, "error": map[string]any{"code": -32601, "message": "method not found"}}
}

func (p *Pool) record(l Login) {
	p.mu.Lock()
	p.logins = append(p.logins, l)
	p.mu.Unlock()
}

func zeroHex(n int) string {
	b := make([]byte, 2*n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}
