//go:build linux

package ebpfreceiver

import (
	"syscall"
	"testing"
	"time"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/process"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/records"
)

// benchPipeline is the receiver's user-space path without the kernel: event → process table →
// context → record, batches taken every batch.size records as the receiver does.
func benchPipeline(b *testing.B) *pipeline {
	cfg := createDefaultConfig()
	cfg.ProcfsRoot = b.TempDir() // gaps are not filled from the real procfs
	cfg.ConfigFiles.Enabled = false
	return newPipeline(cfg, records.Host{Name: "bench", ID: "0123"}, "bench", benchCgroupRoot)
}

// benchCgroupRoot is the real cgroup2 mount: events carry its root's id, as the kernel's do.
var benchCgroupRoot = process.FindCgroup2Mount("/proc/mounts")

func benchCgroupID(b *testing.B) uint64 {
	if benchCgroupRoot == "" {
		b.Skip("no cgroup2 mount")
	}
	var st syscall.Stat_t
	if err := syscall.Stat(benchCgroupRoot, &st); err != nil {
		b.Fatal(err)
	}
	return st.Ino
}

func BenchmarkPipelineExec(b *testing.B) {
	p := benchPipeline(b)
	cg := benchCgroupID(b)
	shell := execEv(100, 1, 1e9, 1, "bash", "/usr/bin/bash", "bash")
	shell.Proc.CgroupID = cg
	p.handle(shell, time.Now())
	ev := execEv(0, 100, 0, 1e9, "ls", "/usr/bin/ls", "ls", "-la", "--color=auto", "/home/user/projects")
	ev.Exec.Env = [][]byte{[]byte("PATH=/usr/local/bin:/usr/bin:/bin"), []byte("HOME=/home/user"), []byte("LANG=C.UTF-8"), []byte("GITHUB_TOKEN=x")}
	ev.Exec.Cwd = "/home/user"
	ev.Proc.CgroupID = cg
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev.Proc.PID = uint32(1000 + i%30000)
		ev.Proc.StartBootNS = uint64(2e9 + i)
		if p.handle(ev, now) >= 512 {
			p.take()
		}
	}
}

func BenchmarkPipelineConnect(b *testing.B) {
	p := benchPipeline(b)
	cg := benchCgroupID(b)
	curl := execEv(100, 1, 1e9, 1, "curl", "/usr/bin/curl", "curl")
	curl.Proc.CgroupID = cg
	p.handle(curl, time.Now())
	ev := &event.Event{Kind: event.KindConnect, BootNS: 2e9, Proc: event.Process{PID: 100, StartBootNS: 1e9, PPID: 1, Comm: "curl", CgroupID: cg},
		Connect: &event.Connect{Family: 2, Transport: 6, Addr: [16]byte{127, 0, 0, 1}, Port: 8080}}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if p.handle(ev, now) >= 512 {
			p.take()
		}
	}
}
