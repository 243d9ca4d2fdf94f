// Package scenario holds the format of testdata/scenarios: the steps chainsim plays and the outcome
// the end-to-end tests expect; it must not know how steps are played or findings are checked.
package scenario // import "github.com/cryptochain-otel/cryptochain/internal/sim/scenario"

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Scenario is one attack chain or benign look-alike.
type Scenario struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Network     *Network `yaml:"network"`
	Steps       []Step   `yaml:"steps"`
	Expect      Expect   `yaml:"expect"`
	// Tags let a test pick scenarios (e.g. "container", "demo", "hiding").
	Tags []string `yaml:"tags"`
	// Blocked, when set, names the missing feature of another component that
	// keeps this scenario from passing; the e2e test skips it with that reason.
	Blocked string `yaml:"blocked"`
	// File is where the scenario was loaded from.
	File string `yaml:"-"`
}

// Network asks for the simulator's loopback-only namespace, with a fake DNS
// server and fake stratum pools inside it.
type Network struct {
	// DNS maps names to loopback addresses or to a CNAME.
	DNS map[string]DNSRecord `yaml:"dns"`
	// PoolPorts are the TCP ports the fake pool listens on (on 127.0.0.1).
	PoolPorts []int `yaml:"pool_ports"`
	// TLSPoolPorts are ports where the fake pool speaks stratum over TLS.
	TLSPoolPorts []int `yaml:"tls_pool_ports"`
}

// DNSRecord is the fake answer for one name.
type DNSRecord struct {
	A     []string `yaml:"a"`
	CNAME string   `yaml:"cname"`
}

// Step is one action; exactly one field is set.
type Step struct {
	Miner      *Miner     `yaml:"miner"`
	Container  *Container `yaml:"container"`
	Crontab    string     `yaml:"crontab"`
	CrontabL   bool       `yaml:"crontab_list"`
	CronD      *CronD     `yaml:"cron_d"`
	Sysctl     *Sysctl    `yaml:"sysctl"`
	DropCaches string     `yaml:"drop_caches"`
	MSR        bool       `yaml:"msr"`
	Modprobe   []string   `yaml:"modprobe"`
	Exec       *Exec      `yaml:"exec"`
	WriteFile  *WriteFile `yaml:"write_file"`
	Sleep      Duration   `yaml:"sleep"`
	// Restart is a marker for the e2e test: restart the agent here.
	Restart bool `yaml:"restart"`
}

// Miner runs the fake miner inside the namespace.
type Miner struct {
	// Name is the file name the fake miner is installed as (xmrig, kworker, ...).
	Name string `yaml:"name"`
	// Dir is where it is installed; default a fresh hidden directory under /tmp.
	Dir  string   `yaml:"dir"`
	Args []string `yaml:"args"`
	// Config, when set, is written as config.json beside the executable.
	Config   map[string]any `yaml:"config"`
	Duration Duration       `yaml:"duration"`
	FPU      bool           `yaml:"fpu"`
	Memfd    bool           `yaml:"memfd"`
	Comm     string         `yaml:"comm"`
	// Background leaves the miner running while the next steps play.
	Background bool `yaml:"background"`
	// ViaCron starts the miner the way cron re-spawns a job: as the child of
	// a process named cron (a shell copy), in a new execution context.
	ViaCron bool `yaml:"via_cron"`
	// Builtin is "URL WALLET" handed over a pipe: a pool compiled into the
	// miner, visible in no argv, environment or file.
	Builtin string `yaml:"builtin"`
	// DoubleFork starts the miner through a double fork whose middle process
	// exits first: the miner execs as an orphan, reparented to pid 1 or a
	// subreaper, not as the child of the process that started it.
	DoubleFork bool `yaml:"double_fork"`
	// PadArgs puts this many filler arguments before Args, as a wrapper with
	// a long option list would, pushing the real flags far into argv.
	PadArgs int `yaml:"pad_args"`
}

// MaxPadArgs bounds pad_args (the kernel's argv limit is far above it).
const MaxPadArgs = 20000

// Padding returns n filler arguments (--opt-N=value), as pad_args inserts them.
func Padding(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("--opt-%d=value-%d", i, i)
	}
	return out
}

// Container runs the fake miner in a real podman container joined to the namespace.
type Container struct {
	Name     string   `yaml:"name"`
	Args     []string `yaml:"args"`
	Duration Duration `yaml:"duration"`
}

// CronD writes a file under /etc/cron.d.
type CronD struct {
	Name string `yaml:"name"`
	Line string `yaml:"line"`
}

// Sysctl writes a value under /proc/sys.
type Sysctl struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

// Exec runs a command, optionally inside the namespace.
type Exec struct {
	Argv  []string `yaml:"argv"`
	Netns bool     `yaml:"netns"`
	// Name, when set, runs argv[0] from a copy of it installed under this file name
	// in a fresh directory (e.g. a `monerod`-named full node look-alike).
	Name string `yaml:"name"`
	// Dir is where the renamed copy goes (default a fresh hidden directory under /tmp).
	Dir string `yaml:"dir"`
	// MayFail accepts a non-zero exit (e.g. a grep that finds nothing).
	MayFail bool `yaml:"may_fail"`
	// Env adds environment variables (NAME=value).
	Env []string `yaml:"env"`
	// Creates lists files the command writes: recorded first, restored after.
	Creates []string `yaml:"creates"`
	// PadArgs inserts this many filler arguments right after argv[0] (see Miner.PadArgs).
	PadArgs int `yaml:"pad_args"`
}

// WriteFile writes a file the simulator removes afterwards.
type WriteFile struct {
	Path    string `yaml:"path"`
	Content string `yaml:"content"`
}

// Expect is the outcome the end-to-end test checks.
type Expect struct {
	// Severity is none, medium, high or critical.
	Severity string   `yaml:"severity"`
	Case     string   `yaml:"case"`
	Groups   []string `yaml:"groups"`
	// Escalations are the severities expected to arrive, in order, each once.
	Escalations []string `yaml:"escalations"`
	Evidence    Evidence `yaml:"evidence"`
}

// Evidence lists key facts the finding must carry.
type Evidence struct {
	MinerPid        bool   `yaml:"miner_pid"`
	Pool            string `yaml:"pool"`
	Wallet          string `yaml:"wallet"`
	PersistencePath string `yaml:"persistence_path"`
	ContainerID     bool   `yaml:"container_id"`
	// Linked expects the finding to name the context it was linked from
	// (a cron re-spawn tied back to the writer of the cron line).
	Linked bool `yaml:"linked"`
	// Kinds are evidence kinds (the processor's `kind` of an evidence item)
	// that must be among the finding's evidence: what the scenario proves.
	Kinds []string `yaml:"kinds"`
}

// Duration is a time.Duration written as "2s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// Result is the summary `chainsim play --result` writes; the end-to-end
// tests use it to tie findings to the processes of one scenario.
type Result struct {
	Scenario    string   `json:"scenario"`
	SessionPid  int      `json:"session_pid"`
	MinerPids   []int    `json:"miner_pids,omitempty"`
	Pids        []int    `json:"pids,omitempty"`
	ContainerID string   `json:"container_id,omitempty"`
	Netns       string   `json:"netns,omitempty"`
	DNSQueries  []string `json:"dns_queries,omitempty"`
	// Markers are paths only this run used (install directories, written
	// files): a finding whose evidence names one belongs to this run.
	Markers    []string `json:"markers,omitempty"`
	PoolLogins []string `json:"pool_logins,omitempty"`
	// StepEnds is when each step finished (Unix nanoseconds), LastStep the last of them.
	StepEnds []int64 `json:"step_ends_unix_nano,omitempty"`
	LastStep int64   `json:"last_step_unix_nano"`
	Error    string  `json:"error,omitempty"`
}

// Severities in rising order.
var Severities = []string{"none", "medium", "high", "critical"}

// Load reads and validates one scenario file.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.File = path
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// LoadDir loads every *.yaml in dir, sorted by file name.
func LoadDir(dir string) ([]*Scenario, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []*Scenario
	for _, p := range paths {
		s, err := Load(p)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Malicious reports whether the scenario expects a finding.
func (s *Scenario) Malicious() bool { return s.Expect.Severity != "none" }

// HasTag reports whether the scenario carries tag.
func (s *Scenario) HasTag(tag string) bool {
	for _, t := range s.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Validate checks the file names its keys in every error.
func (s *Scenario) Validate() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("name: required"))
	}
	if !contains(Severities, s.Expect.Severity) {
		errs = append(errs, fmt.Errorf("expect.severity: %q is not one of %s", s.Expect.Severity, strings.Join(Severities, ", ")))
	}
	if s.Malicious() && s.Expect.Case == "" {
		errs = append(errs, errors.New("expect.case: required when a finding is expected"))
	}
	for i, e := range s.Expect.Escalations {
		if !contains(Severities[1:], e) {
			errs = append(errs, fmt.Errorf("expect.escalations[%d]: %q is not a severity", i, e))
		}
	}
	if s.Network != nil {
		for name, r := range s.Network.DNS {
			if (len(r.A) == 0) == (r.CNAME == "") {
				errs = append(errs, fmt.Errorf("network.dns.%s: exactly one of a, cname", name))
			}
			for _, a := range r.A {
				if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
					errs = append(errs, fmt.Errorf("network.dns.%s.a: %q is not a loopback address", name, a))
				}
			}
		}
		for i, p := range append(append([]int(nil), s.Network.PoolPorts...), s.Network.TLSPoolPorts...) {
			if p <= 0 || p > 65535 || p == 53 {
				errs = append(errs, fmt.Errorf("network.pool_ports[%d]: bad port %d", i, p))
			}
		}
	}
	if len(s.Steps) == 0 {
		errs = append(errs, errors.New("steps: at least one"))
	}
	for i, st := range s.Steps {
		if n := st.count(); n != 1 {
			errs = append(errs, fmt.Errorf("steps[%d]: exactly one action per step, found %d", i, n))
		}
		if (st.Miner != nil || st.Container != nil) && s.Network == nil {
			errs = append(errs, fmt.Errorf("steps[%d]: a miner needs the network section (fake DNS and pool)", i))
		}
		if st.Exec != nil && len(st.Exec.Argv) == 0 {
			errs = append(errs, fmt.Errorf("steps[%d].exec.argv: required", i))
		}
		if st.Exec != nil {
			for j, c := range st.Exec.Creates {
				if !filepath.IsAbs(c) {
					errs = append(errs, fmt.Errorf("steps[%d].exec.creates[%d]: must be absolute", i, j))
				}
			}
		}
		if st.Miner != nil && (st.Miner.PadArgs < 0 || st.Miner.PadArgs > MaxPadArgs) {
			errs = append(errs, fmt.Errorf("steps[%d].miner.pad_args: must be between 0 and %d", i, MaxPadArgs))
		}
		if st.Miner != nil && st.Miner.DoubleFork && (st.Miner.Background || st.Miner.ViaCron) {
			errs = append(errs, fmt.Errorf("steps[%d].miner.double_fork: cannot be combined with background or via_cron", i))
		}
		if st.Exec != nil && (st.Exec.PadArgs < 0 || st.Exec.PadArgs > MaxPadArgs) {
			errs = append(errs, fmt.Errorf("steps[%d].exec.pad_args: must be between 0 and %d", i, MaxPadArgs))
		}
		if st.Exec != nil && st.Exec.Netns && s.Network == nil {
			errs = append(errs, fmt.Errorf("steps[%d].exec.netns: needs the network section", i))
		}
		if st.CronD != nil && (st.CronD.Name == "" || strings.ContainsAny(st.CronD.Name, "/.")) {
			errs = append(errs, fmt.Errorf("steps[%d].cron_d.name: a plain file name is required", i))
		}
		if st.Sysctl != nil && !strings.HasPrefix(st.Sysctl.Name, "vm.") {
			errs = append(errs, fmt.Errorf("steps[%d].sysctl.name: only vm.* settings may be changed, got %q", i, st.Sysctl.Name))
		}
		if st.WriteFile != nil && !filepath.IsAbs(st.WriteFile.Path) {
			errs = append(errs, fmt.Errorf("steps[%d].write_file.path: must be absolute", i))
		}
	}
	return errors.Join(errs...)
}

func (st Step) count() int {
	n := 0
	for _, set := range []bool{st.Miner != nil, st.Container != nil, st.Crontab != "", st.CrontabL, st.CronD != nil,
		st.Sysctl != nil, st.DropCaches != "", st.MSR, len(st.Modprobe) > 0, st.Exec != nil, st.WriteFile != nil,
		st.Sleep != 0, st.Restart} {
		if set {
			n++
		}
	}
	return n
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
