package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

// printPlan describes what play would do, step by step, without doing it.
func printPlan(w io.Writer, sc *scenario.Scenario) error {
	fmt.Fprintf(w, "scenario %s: %s\n", sc.Name, sc.Description)
	fmt.Fprintf(w, "  run in a new session (its own execution context)\n")
	if n := sc.Network; n != nil {
		fmt.Fprintf(w, "  create network namespace chainsim-<pid> (loopback only) and /etc/netns/chainsim-<pid>/resolv.conf -> 127.0.0.1\n")
		names := make([]string, 0, len(n.DNS))
		for name := range n.DNS {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			r := n.DNS[name]
			if r.CNAME != "" {
				fmt.Fprintf(w, "  fake DNS: %s CNAME %s\n", name, r.CNAME)
			} else {
				fmt.Fprintf(w, "  fake DNS: %s A %s\n", name, strings.Join(r.A, ", "))
			}
		}
		for _, port := range n.PoolPorts {
			fmt.Fprintf(w, "  fake stratum pool on port %d of the namespace (loopback only)\n", port)
		}
		for _, port := range n.TLSPoolPorts {
			fmt.Fprintf(w, "  fake stratum pool over TLS on port %d of the namespace (loopback only)\n", port)
		}
	}
	for i, st := range sc.Steps {
		fmt.Fprintf(w, "  %2d. %s\n", i+1, describe(st))
	}
	fmt.Fprintf(w, "  then restore every change (journal under %s)\n", journalDir)
	fmt.Fprintf(w, "expect: severity %s", sc.Expect.Severity)
	if sc.Expect.Case != "" {
		fmt.Fprintf(w, ", case %q, groups %v", sc.Expect.Case, sc.Expect.Groups)
	}
	fmt.Fprintln(w)
	return nil
}

func describe(st scenario.Step) string {
	switch {
	case st.Miner != nil:
		m := st.Miner
		name := m.Name
		if name == "" {
			name = "xmrig"
		}
		s := fmt.Sprintf("run fake miner as %s %s inside the namespace", filepath.Join(orDefault(m.Dir, "/tmp/.chainsim-<pid>-N"), name), strings.Join(m.Args, " "))
		if m.Config != nil {
			s += " (with config.json beside it)"
		}
		if m.FPU {
			s += ", switching MXCSR rounding modes"
		}
		if m.Memfd {
			s += ", re-executed from a memfd"
		}
		if m.Comm != "" {
			s += ", renamed to " + m.Comm
		}
		if m.ViaCron {
			s += ", started as a child of a cron-named process (a cron re-spawn)"
		}
		if m.Builtin != "" {
			s += ", pool handed over a pipe (as if compiled in)"
		}
		return s
	case st.Container != nil:
		return fmt.Sprintf("run fake miner %s %s in a podman container (runc, cgroupfs) joined to the namespace", orDefault(st.Container.Name, "xmrig"), strings.Join(st.Container.Args, " "))
	case st.Crontab != "":
		return fmt.Sprintf("append to root's crontab with `crontab -`: %s", st.Crontab)
	case st.CrontabL:
		return "run `crontab -l`"
	case st.CronD != nil:
		return fmt.Sprintf("write /etc/cron.d/%s: %s", st.CronD.Name, st.CronD.Line)
	case st.Sysctl != nil:
		return fmt.Sprintf("write %s = %s (old value restored)", st.Sysctl.Name, st.Sysctl.Value)
	case st.DropCaches != "":
		return fmt.Sprintf("write %s to /proc/sys/vm/drop_caches", st.DropCaches)
	case st.MSR:
		return "try to open /dev/cpu/*/msr for writing (never written)"
	case len(st.Modprobe) > 0:
		return "run modprobe " + strings.Join(st.Modprobe, " ") + " (expected to fail)"
	case st.Exec != nil:
		s := "run " + strings.Join(st.Exec.Argv, " ")
		if st.Exec.Name != "" {
			s += " installed as " + st.Exec.Name
		}
		if st.Exec.Netns {
			s += " inside the namespace"
		}
		return s
	case st.WriteFile != nil:
		return "write " + st.WriteFile.Path
	case st.Sleep != 0:
		return fmt.Sprintf("sleep %s", time.Duration(st.Sleep))
	case st.Restart:
		return "(e2e: restart the agent here)"
	}
	return "?"
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
