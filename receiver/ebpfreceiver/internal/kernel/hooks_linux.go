//go:build linux && amd64

package kernel // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/kernel"

import (
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
)

type attachKind int

const (
	attachTPBTF attachKind = iota // tp_btf: BTF raw tracepoint
	attachTracepoint
	attachCgroup
)

type family int

const (
	famExec family = iota
	famExit
	famRename
	famNetwork
	famDNS
	famFiles
	famSysctl
	famKill
	famFPU
)

// hook is one BPF program and where it attaches.
type hook struct {
	prog     string
	fam      family
	kind     attachKind
	group    string // tracepoint group
	name     string // tracepoint or tp_btf name
	optional bool   // left out, with a log line, when the kernel lacks the tracepoint
}

func tp(prog string, fam family, name string, optional bool) hook {
	return hook{prog: prog, fam: fam, kind: attachTracepoint, group: "syscalls", name: name, optional: optional}
}

// hooks lists every program in probes_x86_bpfel.o. The legacy x86 syscalls and the newer
// openat2/fchmodat2 are optional; everything else is required when its family is on.
var hooks = []hook{
	{prog: "handle_fork", fam: famExec, kind: attachTPBTF, name: "sched_process_fork"},
	{prog: "handle_exec", fam: famExec, kind: attachTPBTF, name: "sched_process_exec"},
	tp("handle_execve_exit", famExec, "sys_exit_execve", false),
	tp("handle_execveat_exit", famExec, "sys_exit_execveat", false),

	{prog: "handle_exit", fam: famExit, kind: attachTPBTF, name: "sched_process_exit"},
	{prog: "handle_rename", fam: famRename, kind: attachTPBTF, name: "task_rename"},

	{prog: "handle_connect4", fam: famNetwork, kind: attachCgroup},
	{prog: "handle_connect6", fam: famNetwork, kind: attachCgroup},
	tp("handle_connect_enter", famNetwork, "sys_enter_connect", false),
	tp("handle_connect_exit", famNetwork, "sys_exit_connect", false),

	{prog: "handle_dns_egress", fam: famDNS, kind: attachCgroup},
	{prog: "handle_dns_ingress", fam: famDNS, kind: attachCgroup},

	{prog: "handle_sysctl", fam: famSysctl, kind: attachCgroup},

	tp("handle_kill_exit", famKill, "sys_exit_kill", false),
	tp("handle_tgkill_exit", famKill, "sys_exit_tgkill", false),
	{prog: "handle_fpu", fam: famFPU, kind: attachTPBTF, name: "x86_fpu_regs_deactivated"},

	tp("handle_openat_enter", famFiles, "sys_enter_openat", false),
	tp("handle_openat_exit", famFiles, "sys_exit_openat", false),
	tp("handle_openat2_enter", famFiles, "sys_enter_openat2", true),
	tp("handle_openat2_exit", famFiles, "sys_exit_openat2", true),
	tp("handle_open_enter", famFiles, "sys_enter_open", true),
	tp("handle_open_exit", famFiles, "sys_exit_open", true),
	tp("handle_creat_enter", famFiles, "sys_enter_creat", true),
	tp("handle_creat_exit", famFiles, "sys_exit_creat", true),
	tp("handle_renameat2_enter", famFiles, "sys_enter_renameat2", false),
	tp("handle_renameat2_exit", famFiles, "sys_exit_renameat2", false),
	tp("handle_renameat_enter", famFiles, "sys_enter_renameat", true),
	tp("handle_renameat_exit", famFiles, "sys_exit_renameat", true),
	tp("handle_rename_enter", famFiles, "sys_enter_rename", true),
	tp("handle_rename_exit", famFiles, "sys_exit_rename", true),
	tp("handle_linkat_enter", famFiles, "sys_enter_linkat", false),
	tp("handle_linkat_exit", famFiles, "sys_exit_linkat", false),
	tp("handle_link_enter", famFiles, "sys_enter_link", true),
	tp("handle_link_exit", famFiles, "sys_exit_link", true),
	tp("handle_symlinkat_enter", famFiles, "sys_enter_symlinkat", false),
	tp("handle_symlinkat_exit", famFiles, "sys_exit_symlinkat", false),
	tp("handle_symlink_enter", famFiles, "sys_enter_symlink", true),
	tp("handle_symlink_exit", famFiles, "sys_exit_symlink", true),
	tp("handle_unlinkat_enter", famFiles, "sys_enter_unlinkat", false),
	tp("handle_unlinkat_exit", famFiles, "sys_exit_unlinkat", false),
	tp("handle_unlink_enter", famFiles, "sys_enter_unlink", true),
	tp("handle_unlink_exit", famFiles, "sys_exit_unlink", true),
	tp("handle_fchmodat_enter", famFiles, "sys_enter_fchmodat", false),
	tp("handle_fchmodat_exit", famFiles, "sys_exit_fchmodat", false),
	tp("handle_fchmodat2_enter", famFiles, "sys_enter_fchmodat2", true),
	tp("handle_fchmodat2_exit", famFiles, "sys_exit_fchmodat2", true),
	tp("handle_chmod_enter", famFiles, "sys_enter_chmod", true),
	tp("handle_chmod_exit", famFiles, "sys_exit_chmod", true),
}

// hookOn says whether a hook is loaded. The first-payload capture (Options.Payload) rides on the
// connect and egress programs, so it keeps them loaded when their own family is off.
func hookOn(o event.Options, h hook) bool {
	if o.Payload {
		switch h.prog {
		case "handle_connect4", "handle_connect6", "handle_dns_egress":
			return true
		}
	}
	return familyOn(o, h.fam)
}

func familyOn(o event.Options, f family) bool {
	switch f {
	case famKill:
		return o.Kill
	case famFPU:
		return o.FPU
	case famExec:
		return o.Exec
	case famExit:
		return o.Exit
	case famRename:
		return o.Rename
	case famNetwork:
		return o.Network
	case famDNS:
		return o.DNS
	case famFiles:
		return o.Files
	case famSysctl:
		return o.Sysctl
	}
	return false
}
