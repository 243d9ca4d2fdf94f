// Command execstorm generates load for the receiver benchmarks: a serial (or parallel) exec storm of
// /bin/true, or a loopback TCP connect storm, for a fixed time, and prints the rate it reached.
// It uses no part of the collector, so the same load runs with and without the collector attached.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	mode := flag.String("mode", "exec", "exec or connect")
	seconds := flag.Float64("seconds", 10, "duration")
	workers := flag.Int("workers", 1, "parallel workers")
	flag.Parse()
	d := time.Duration(*seconds * float64(time.Second))

	var work func() error
	switch *mode {
	case "exec":
		work = func() error { return exec.Command("/bin/true").Run() }
	case "connect":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		addr := ln.Addr().String()
		work = func() error {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return err
			}
			return c.Close()
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", *mode)
		os.Exit(2)
	}

	var n atomic.Uint64
	var failed atomic.Bool
	end := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if err := work(); err != nil {
					fmt.Fprintln(os.Stderr, err)
					failed.Store(true)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	fmt.Printf("%s %d ops in %.2fs: %.1f/s\n", *mode, n.Load(), el, float64(n.Load())/el)
	if failed.Load() {
		os.Exit(1)
	}
}
