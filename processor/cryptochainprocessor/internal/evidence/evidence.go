// Package evidence holds the decoded form of a docs/events.md record, the evidence a record gives one of the four
// groups (or concealment, counted in none), and how informative one item is compared to another.
// It must not know how evidence is graded or correlated, nor the Collector beyond decoding a plog.LogRecord.
package evidence // import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"

import "time"

// Group is one of the four activity groups of the attack chain.
type Group uint8

// The four groups, in the order the finding lists them.
const (
	Miner Group = iota
	Pool
	Persistence
	Optimization
	NumGroups
)

// Concealment is the kind of evidence that hides a miner rather than runs, reaches or keeps it
// (ld.so.preload, process-hider libraries, kernel module loads, log and history wiping, immutable
// attacker files). It is shown in a finding but counted in no group: it never raises a level.
const Concealment = NumGroups

var groupNames = [...]string{"miner", "pool", "persistence", "optimization", "concealment"}

// String returns the lower-case group name used in attributes (`cryptochain.group`).
func (g Group) String() string {
	if g <= Concealment {
		return groupNames[g]
	}
	return "unknown"
}

// Strength grades a piece of evidence. One Strong item completes its group; Weak items complete it
// only in numbers (two or more distinct Kinds from the same process) or, for Pool, when the process
// already has Miner evidence (a stratum port from a process that runs a miner).
type Strength uint8

// Strengths.
const (
	Weak Strength = iota + 1
	Strong
)

// String returns "weak" or "strong".
func (s Strength) String() string {
	if s == Strong {
		return "strong"
	}
	return "weak"
}

// Evidence is one reason a record belongs to a group. Only the fields that apply are set.
type Evidence struct {
	Group    Group
	Strength Strength
	// Kind names the indicator class, e.g. "pool_url", "wallet", "algorithm", "miner_flag",
	// "miner_name", "env", "pool_domain", "pool_address", "stratum_port", "cron", "systemd", "rc",
	// "msr", "hugepages", "drop_caches", "cpu_governor", "nmi_watchdog". The full list, with the group
	// and strength of each, is the Kind* constants of package classify.
	Kind string
	// Indicator is the matched value as seen (a URL, a wallet, a flag, a domain, a path).
	Indicator string
	// Source is the provenance of the indicator list entry that matched (for analysts).
	Source string
	// Failed marks an attempt that the kernel refused. Failed Persistence is recorded but does not
	// count; failed Optimization counts (the intent is the signal).
	Failed bool
	// Delegated marks evidence produced by a daemon acting for others (a container runtime unpacking
	// an image, a package manager installing software): it belongs to the context it was seen in
	// and is not inherited by the contexts opened from it.
	Delegated bool

	// Facts for the finding's response section.
	Endpoint string // pool endpoint "host:port" (or a URL) to block
	Wallet   string // wallet / login
	Path     string // persistence file or tuning path
	Action   string // human description, e.g. "sysctl vm.nr_hugepages=1280"
	Command  string // for persistence: the command a cron line or unit will run
}

// Event is the decoded form of one record of docs/events.md, reduced to what classification and
// correlation need. Strings are copies: nothing here refers to pdata memory.
type Event struct {
	Name        string // EventName
	Time        time.Time
	PID         int64
	Start       string // process.creation.time, "" when unknown
	PPID        int64
	PStart      string
	Ancestors   []int64
	Exe         string
	ExeHash     string // hex SHA-256 of the executable (exec records), validated
	Comm        string
	Filename    string // exec: the path handed to exec
	Args        []string
	CmdLine     string
	Cwd         string
	ExeMemfd    bool
	ExeDeleted  bool
	Interactive bool

	// network / dns
	Address    string // server.address
	Port       int64  // server.port
	Transport  string
	DNSName    string
	DNSAnswers []string
	DNSCNAMEs  []string

	// file / sysctl
	Path        string // file.path
	Op          string // cryptochain.file.operation
	SourcePath  string
	Flags       int64
	Failed      bool   // file result error, exec_failed, connect error
	Content     string // cryptochain.file.content
	FileRoot    string // cryptochain.file.root: set when the path is not a host path (chroot, image unpack)
	SysctlName  string
	SysctlValue string

	// exit
	CPUSeconds float64
	ExitCode   int64
	HasExit    bool

	// Added by the decoder (docs/events.md); zero when absent.
	ExeName        string // process.executable.name
	Command        string // process.command (argv[0])
	CommOld        string // process.rename: the name before
	EventSource    string // cryptochain.event.source: procfs for the start-up snapshot, empty for live hooks
	ArgsCount      int64  // process.args_count (true argc)
	ArgsTruncated  bool
	EnvTruncated   bool // env cut by the receiver or by the decoder's bound
	UID            int64
	Interpreter    string
	ErrorType      string // error.type
	Result         string // cryptochain.connect.result / cryptochain.file.result
	Mode           string // file.mode (octal)
	SysctlOldValue string
	DNSType        string
	DNSRcode       string
	ExitSignal     int64
	CPUUser        float64
	CPUSystem      float64
	FPUMXCSR       int64 // process.fpu_rounding
	FPUNonDefault  int64
	FPUSamples     int64
	Payload        string // network.payload: cryptochain.network.payload
	KillTargetPID  int64  // process.kill
	KillSignal     int64
	KillTargetName string
	// EnvVars holds the environment (process.environment_variable.<NAME>) in record order: a list,
	// because a map per exec would cost more than the rest of the decode.
	EnvVars []EnvVar
	// Receiver-side masquerade flags, true when present.
	UnusualLocation bool // cryptochain.process.exe.unusual_location
	NameMismatch    bool // cryptochain.process.name_mismatch
	KthreadLike     bool // cryptochain.process.kthread_like
}

// EnvVar is one captured environment variable.
type EnvVar struct {
	Name, Value string
}
