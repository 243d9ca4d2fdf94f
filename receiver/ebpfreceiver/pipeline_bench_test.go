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
	benchNewExecs(b, p, ev)
}

// BenchmarkPipelineExecLoginEnv is an exec from a login shell: its environment (30 entries) is
// what every command of that shell passes on.
func BenchmarkPipelineExecLoginEnv(b *testing.B) {
	p := benchPipeline(b)
	cg := benchCgroupID(b)
	shell := execEv(100, 1, 1e9, 1, "bash", "/usr/bin/bash", "bash")
	shell.Proc.CgroupID = cg
	p.handle(shell, time.Now())
	ev := execEv(0, 100, 0, 1e9, "ls", "/usr/bin/ls", "ls", "-la")
	for _, e := range []string{"SHELL=/bin/bash", "PWD=/home/user/projects", "LOGNAME=user", "XDG_SESSION_TYPE=tty",
		"HOME=/home/user", "LANG=C.UTF-8", "LS_COLORS=rs=0:di=01;34:ln=01;36:mh=00:pi=40;33:so=01;35:do=01;35:bd=40;33;01",
		"SSH_CONNECTION=192.0.2.10 52514 192.0.2.20 22", "LESSCLOSE=/usr/bin/lesspipe %s %s", "XDG_SESSION_CLASS=user",
		"TERM=xterm-256color", "LESSOPEN=| /usr/bin/lesspipe %s", "USER=user", "SHLVL=1", "XDG_SESSION_ID=42",
		"XDG_RUNTIME_DIR=/run/user/1000", "SSH_CLIENT=192.0.2.10 52514 22", "XDG_DATA_DIRS=/usr/local/share:/usr/share",
		"PATH=/home/user/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus", "SSH_TTY=/dev/pts/0", "OLDPWD=/home/user",
		"EDITOR=vim", "PAGER=less", "GOPATH=/home/user/go", "HISTSIZE=10000", "HISTCONTROL=ignoreboth",
		"MAIL=/var/mail/user", "COLORTERM=truecolor", "_=/usr/bin/ls"} {
		ev.Exec.Env = append(ev.Exec.Env, []byte(e))
	}
	ev.Exec.Cwd = "/home/user/projects"
	ev.Proc.CgroupID = cg
	benchNewExecs(b, p, ev)
}

// benchNewExecs hands ev to the pipeline once per iteration as the exec of a new process (a new pid
// each time, so the process table churns), taking a batch every 512 records as the receiver does.
func benchNewExecs(b *testing.B, p *pipeline, ev *event.Event) {
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
