// Command chainsim plays cryptomining attack chains and benign look-alikes on
// this host, safely: the miner is a fake that never hashes and only runs in a
// loopback-only network namespace with a fake DNS server and a fake stratum
// pool, and every host change is journaled and restored, also on failure,
// SIGINT and SIGTERM.
//
//	chainsim play [--dry-run] [--result out.json] [--fakeminer path] testdata/scenarios/critical-chain.yaml
//	chainsim restore        undo what an interrupted run left behind
//	chainsim list [dir]     list scenarios and their expected outcome
//	chainsim demo           run the collector, play the Critical chain, show the finding
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cryptochain-otel/cryptochain/internal/sim/journal"
	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

// journalDir holds one journal per running play; `restore` undoes them all.
const journalDir = "/run/chainsim"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "chainsim:", err)
		os.Exit(1)
	}
}

func usage() error {
	return errors.New("usage: chainsim play [flags] SCENARIO.yaml | chainsim demo [flags] | chainsim restore | chainsim list [DIR]")
}

func run(args []string) error {
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "play":
		return playCmd(args[1:])
	case "demo":
		return demoCmd(args[1:])
	case "restore":
		return restoreAll()
	case "list":
		dir := "testdata/scenarios"
		if len(args) > 1 {
			dir = args[1]
		}
		return list(dir)
	}
	return usage()
}

func playCmd(args []string) error {
	fs := flag.NewFlagSet("play", flag.ContinueOnError)
	o := options{}
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan and change nothing")
	fs.StringVar(&o.resultPath, "result", "", "write a JSON summary (pids, container id, timings) to this file")
	fs.StringVar(&o.fakeminer, "fakeminer", "", "fake miner binary (default: fakeminer beside chainsim, then $PATH)")
	fs.BoolVar(&o.noSession, "no-session", false, "do not start the scenario in a new session (one execution context per scenario)")
	fs.BoolVar(&o.pauseOnRestart, "pause-on-restart", false, "at a restart step print 'CHAINSIM RESTART' and wait for a line on stdin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usage()
	}
	sc, err := scenario.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	if o.dryRun {
		return printPlan(os.Stdout, sc)
	}
	if os.Geteuid() != 0 {
		return errors.New("play needs root (network namespaces, cron, /proc/sys); try --dry-run")
	}
	if !o.noSession {
		if handled, err := inNewSession(); handled {
			return err
		}
	}
	if o.fakeminer == "" {
		o.fakeminer = findFakeminer()
	}
	return play(sc, o)
}

func findFakeminer() string {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "fakeminer")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "fakeminer"
}

func restoreAll() error {
	paths, _ := filepath.Glob(filepath.Join(journalDir, "*.json"))
	var errs []error
	for _, p := range paths {
		j, err := journal.Load(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Printf("restoring %d change(s) from %s\n", len(j.Entries()), p)
		errs = append(errs, j.Restore())
	}
	if len(paths) == 0 {
		fmt.Println("nothing to restore")
	}
	return errors.Join(errs...)
}

func list(dir string) error {
	all, err := scenario.LoadDir(dir)
	if err != nil {
		return err
	}
	for _, s := range all {
		fmt.Printf("%-32s %-9s %s\n", strings.TrimSuffix(filepath.Base(s.File), ".yaml"), s.Expect.Severity, s.Description)
	}
	return nil
}
