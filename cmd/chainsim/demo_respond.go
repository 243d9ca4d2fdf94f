package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/quarantine"
)

// The demo's response exporter writes under ./data like the rest of the embedded agent.
var (
	auditPath     = filepath.Join("data", "response-audit.jsonl")
	quarantineDir = filepath.Join("data", "quarantine")
)

// responseConfig adds the cryptochain_response exporter to the embedded agent's pipeline.
func responseConfig(mode string) []string {
	if mode == "" {
		return nil
	}
	return []string{
		"--config", fmt.Sprintf("yaml:exporters::cryptochain_response::dry_run: %t", mode != "active"),
		"--config", "yaml:exporters::cryptochain_response::audit::path: " + auditPath,
		"--config", "yaml:exporters::cryptochain_response::quarantine::directory: " + quarantineDir,
		"--config", "yaml:service::pipelines::logs/findings::exporters: [cryptochain_response, debug, file]",
	}
}

func offsetOf(path string) int64 {
	if st, err := os.Stat(path); err == nil {
		return st.Size()
	}
	return 0
}

// showResponse prints the audit records written since offset and, after an active run, restores
// what was quarantined (the deny entries leave with the collector; the host is never frozen).
func showResponse(offset int64, restore bool) {
	f, err := os.Open(auditPath)
	if err != nil {
		fmt.Printf("demo: no response audit (%v)\n", err)
		return
	}
	defer f.Close()
	_, _ = f.Seek(offset, io.SeekStart)
	b, _ := io.ReadAll(f)
	fmt.Printf("demo: response audit (%s, OTLP JSON lines):\n", auditPath)
	var ids []string
	for _, lr := range auditRecords(b) {
		fmt.Printf("  AUDIT %s\n", lr.Body().AsString())
		if v, ok := lr.Attributes().Get("cryptochain.response.quarantine.id"); ok {
			ids = append(ids, v.Str())
		}
	}
	if !restore {
		return
	}
	s := quarantine.Store{Dir: quarantineDir}
	for _, id := range ids {
		if it, err := s.Restore(id, false); err != nil {
			fmt.Printf("demo: restore %s: %v (cryptochain-quarantine --dir %s restore %s)\n", id, err, quarantineDir, id)
		} else {
			// It is the simulator's own cron file, which its journal has already cleaned up: show the
			// restore, then remove the restored copy so the host ends as it began.
			fmt.Printf("demo: restored %s from quarantine (%d bytes, sha256 %.12s…), then removed it again (it is the simulator's)\n", it.OriginalPath, it.Size, it.SHA256)
			_ = os.Remove(it.OriginalPath)
		}
	}
}

func auditRecords(b []byte) []plog.LogRecord {
	var out []plog.LogRecord
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(line)
		if err != nil {
			continue
		}
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				for k := 0; k < sls.At(j).LogRecords().Len(); k++ {
					out = append(out, sls.At(j).LogRecords().At(k))
				}
			}
		}
	}
	return out
}
