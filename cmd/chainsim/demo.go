package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// demoCmd runs the collector on its embedded default config, plays one
// scenario and prints the finding(s) it produced, then stops the collector.
func demoCmd(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	collector := fs.String("collector", "_build/otelcol-cryptochain", "otelcol-cryptochain binary")
	scenarioPath := fs.String("scenario", "testdata/scenarios/critical-chain.yaml", "scenario to play")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the finding")
	respond := fs.String("respond", "", "add the cryptochain_response exporter: dry-run (audit only) or active (act, then restore)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("demo needs root (the eBPF receiver and the simulator); try: sudo make demo")
	}
	findings := filepath.Join("data", "findings.jsonl")
	if err := os.MkdirAll("data", 0o755); err != nil {
		return err
	}
	var start int64
	if st, err := os.Stat(findings); err == nil {
		start = st.Size()
	}
	logPath := filepath.Join("data", "demo-collector.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	if *respond != "" && *respond != "dry-run" && *respond != "active" {
		return fmt.Errorf("--respond %q: want dry-run or active", *respond)
	}
	colArgs := append([]string{"--config", "embedded:agent"}, impactConfig...)
	col := exec.Command(*collector, append(colArgs, responseConfig(*respond)...)...)
	audit := offsetOf(auditPath)
	col.Stdout, col.Stderr = logf, logf
	fmt.Printf("demo: starting %s --config embedded:agent (log: %s)\n", *collector, logPath)
	if err := col.Start(); err != nil {
		return err
	}
	defer func() {
		_ = col.Process.Signal(syscall.SIGTERM)
		_ = col.Wait()
	}()
	if err := waitForLine(logPath, "Everything is ready", 60*time.Second); err != nil {
		return err
	}
	fmt.Printf("demo: collector ready; playing %s\n", *scenarioPath)
	self, _ := os.Executable()
	play := exec.Command(self, "play", *scenarioPath)
	play.Stdout, play.Stderr = os.Stdout, os.Stderr
	if err := play.Run(); err != nil {
		if *respond != "active" {
			return fmt.Errorf("play: %w", err)
		}
		fmt.Printf("demo: the scenario ended early (%v): the response stopped its miner\n", err)
	}
	if *respond != "" {
		defer func() { showResponse(audit, *respond == "active") }()
	}
	deadline := time.Now().Add(*timeout)
	shown := 0
	var critical time.Time // when the Critical finding was shown; an impact update may follow
	impactShown := false
	for time.Now().Before(deadline) {
		recs := readFindings(findings, start)
		for _, r := range recs[shown:] {
			fmt.Println(r)
			if critical.IsZero() && strings.HasPrefix(r, "FINDING") && strings.Contains(r, "critical") {
				critical = time.Now()
			}
			impactShown = impactShown || strings.HasPrefix(r, "IMPACT")
		}
		shown = len(recs)
		if !critical.IsZero() && (impactShown || time.Since(critical) > 5*time.Second) {
			fmt.Printf("demo: findings are in %s (OTLP JSON lines); the collector log shows the debug exporter's view\n", findings)
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	if shown > 0 {
		return nil
	}
	return fmt.Errorf("no finding within %s; see %s", *timeout, logPath)
}

func waitForLine(path, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(want)) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	return fmt.Errorf("collector not ready after %s:\n%s", timeout, b)
}

// readFindings renders each cryptochain.finding written after offset.
func readFindings(path string, offset int64) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(f)
	var out []string
	var u plog.JSONUnmarshaler
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		ld, err := u.UnmarshalLogs(line)
		if err != nil {
			continue
		}
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					switch lr := lrs.At(k); lr.EventName() {
					case "cryptochain.finding":
						out = append(out, render(lr))
					case "cryptochain.finding.impact":
						out = append(out, renderImpact(lr))
					}
				}
			}
		}
	}
	return out
}

func render(lr plog.LogRecord) string {
	var sb strings.Builder
	a := lr.Attributes()
	get := func(k string) string {
		if v, ok := a.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	fmt.Fprintf(&sb, "FINDING %s  %s  (%s)\n", lr.SeverityText(), get("cryptochain.finding.case"), get("cryptochain.finding.severity"))
	fmt.Fprintf(&sb, "  %s\n", lr.Body().AsString())
	for _, k := range []string{"cryptochain.finding.id", "cryptochain.finding.groups", "cryptochain.response.miner_pids",
		"cryptochain.response.pool_endpoints", "cryptochain.response.wallets", "cryptochain.response.persistence_paths",
		"cryptochain.response.miner_sha256", "cryptochain.mitre.technique.ids"} {
		if v := get(k); v != "" {
			fmt.Fprintf(&sb, "  %-40s %s\n", k, v)
		}
	}
	renderTriage(&sb, a)
	return sb.String()
}
