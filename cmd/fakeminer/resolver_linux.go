package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/cryptochain-otel/cryptochain/internal/sim/netns"
)

// poolResolver resolves through the simulator namespace's resolv.conf when
// the miner runs in a named namespace (chainsim starts it there without a
// private /etc), so the DNS question still really goes out — to the fake
// server on 127.0.0.1:53 inside the namespace. Elsewhere (a container with
// its own /etc/resolv.conf) it is Go's resolver as usual. A nameserver that
// is not loopback is refused.
func poolResolver() (*net.Resolver, error) {
	name, err := netns.Identify()
	if err != nil || name == "" {
		return &net.Resolver{PreferGo: true}, nil
	}
	servers, err := nameservers(filepath.Join(netns.ResolvConfDir(name), "resolv.conf"))
	if err != nil || len(servers) == 0 {
		return &net.Resolver{PreferGo: true}, nil
	}
	for _, s := range servers {
		if ip := net.ParseIP(s); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("refusing nameserver %s: not a loopback address", s)
		}
	}
	server := net.JoinHostPort(servers[0], "53")
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}, nil
}

func nameservers(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) >= 2 && fields[0] == "nameserver" {
			out = append(out, fields[1])
		}
	}
	return out, sc.Err()
}
