// Command cryptochain-quarantine lists and restores the files the cryptochain_response exporter
// moved into its quarantine directory (cron tables, units, scripts named by a finding).
//
//	cryptochain-quarantine [--dir DIR] list [--json]
//	cryptochain-quarantine [--dir DIR] restore [--force] ID...
//
// A restore puts the file back byte for byte, with its owner, mode and modification time, after
// checking its content hash against the manifest; it refuses to overwrite a file unless --force.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/quarantine"
)

// defaultDir is the exporter's default `quarantine.directory`.
const defaultDir = "/var/lib/otelcol-cryptochain/quarantine"

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cryptochain-quarantine:", err)
		os.Exit(1)
	}
}

func usage() error {
	return errors.New("usage: cryptochain-quarantine [--dir DIR] list [--json] | restore [--force] ID [ID ...]")
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cryptochain-quarantine", flag.ContinueOnError)
	dir := fs.String("dir", defaultDir, "quarantine directory (the exporter's quarantine.directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usage()
	}
	s := quarantine.Store{Dir: *dir}
	switch fs.Arg(0) {
	case "list":
		lf := flag.NewFlagSet("list", flag.ContinueOnError)
		asJSON := lf.Bool("json", false, "print the manifests as JSON")
		if err := lf.Parse(fs.Args()[1:]); err != nil {
			return err
		}
		return list(s, out, *asJSON)
	case "restore":
		rf := flag.NewFlagSet("restore", flag.ContinueOnError)
		force := rf.Bool("force", false, "replace a file that exists at the original path")
		if err := rf.Parse(fs.Args()[1:]); err != nil {
			return err
		}
		if rf.NArg() == 0 {
			return usage()
		}
		var errs []error
		for _, id := range rf.Args() {
			it, err := s.Restore(id, *force)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", id, err))
				continue
			}
			fmt.Fprintf(out, "restored %s (%d bytes, sha256 %s, mode %04o, owner %d:%d)\n", it.OriginalPath, it.Size, it.SHA256, it.Mode, it.UID, it.GID)
		}
		return errors.Join(errs...)
	}
	return usage()
}

func list(s quarantine.Store, out io.Writer, asJSON bool) error {
	items, err := s.List()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if items == nil {
			items = []quarantine.Item{}
		}
		return enc.Encode(items)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPATH\tSIZE\tSHA256\tFINDING\tQUARANTINED\tRESTORED")
	for _, it := range items {
		restored := "-"
		if it.RestoredAt != nil {
			restored = it.RestoredAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.12s\t%s\t%s\t%s\n", it.ID, it.OriginalPath, it.Size, it.SHA256, it.FindingID, it.QuarantinedAt.Format(time.RFC3339), restored)
	}
	return tw.Flush()
}
