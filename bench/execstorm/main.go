// Command execstorm generates load for the receiver benchmarks: a serial (or parallel) exec storm of
// /bin/true, a loopback TCP connect storm, or a file-write storm (open, write, close of a file in a
// directory no watched prefix covers), for a fixed time, and prints the rate it reached; with -cpu it
// also prints the CPU time it and its children (the /bin/true processes) used. It uses no part of the
// collector, so the same load runs with and without the collector attached.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	mode := flag.String("mode", "exec", "exec, connect or file")
	seconds := flag.Float64("seconds", 10, "duration")
	workers := flag.Int("workers", 1, "parallel workers")
	cpu := flag.Bool("cpu", false, "also print ops, seconds and CPU seconds (user+system, self and children)")
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
	case "file":
		dir, err := os.MkdirTemp("", "execstorm-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
		name := filepath.Join(dir, "out.txt")
		data := []byte("execstorm file write\n")
		work = func() error {
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return err
			}
			return f.Close()
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
	if *cpu {
		fmt.Printf("ops=%d seconds=%.3f cpu=%.4f\n", n.Load(), el, cpuSeconds())
	} else {
		fmt.Printf("%s %d ops in %.2fs: %.1f/s\n", *mode, n.Load(), el, float64(n.Load())/el)
	}
	if failed.Load() {
		os.Exit(1)
	}
}

// cpuSeconds is the user and system time of this process and of its waited-for children.
func cpuSeconds() float64 {
	var t float64
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err == nil {
			t += float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
		}
	}
	return t
}
