// Package contract holds the names of docs/events.md (events, record attributes, resource keys,
// context kinds) and the persistence-location table that the ebpf receiver writes by and the
// cryptochain processor reads by; it must not know how either side observes or judges anything.
package contract // import "github.com/cryptochain-otel/cryptochain/internal/contract"

import "fmt"

// Resource attribute keys: the execution context a record belongs to.
const (
	ResourceContainerID          = "container.id"
	ResourceContainerImageName   = "container.image.name"
	ResourceContainerRuntimeName = "container.runtime.name"
	ResourceContextID            = "cryptochain.context.id"
	ResourceContextKind          = "cryptochain.context.kind"
	ResourceContextParentID      = "cryptochain.context.parent_id"
	ResourceHostID               = "host.id"
	ResourceHostName             = "host.name"
	ResourceK8sContainerName     = "k8s.container.name"
	ResourceK8sNamespaceName     = "k8s.namespace.name"
	ResourceK8sPodName           = "k8s.pod.name"
	ResourceK8sPodUID            = "k8s.pod.uid"
	ResourceProcessLinuxCgroup   = "process.linux.cgroup"
)

// ResourceKeys lists every resource attribute key above: what the receiver may write on a
// resource and a finding carries over from it.
var ResourceKeys = []string{
	ResourceContainerID, ResourceContainerImageName, ResourceContainerRuntimeName,
	ResourceContextID, ResourceContextKind, ResourceContextParentID,
	ResourceHostID, ResourceHostName,
	ResourceK8sContainerName, ResourceK8sNamespaceName, ResourceK8sPodName, ResourceK8sPodUID,
	ResourceProcessLinuxCgroup,
}

// Context kinds (values of cryptochain.context.kind): why an execution context was opened.
const (
	ContextBoot             = "boot"
	ContextCgroup           = "cgroup"
	ContextLoginSession     = "login_session"
	ContextInteractiveShell = "interactive_shell"
	ContextServiceShell     = "service_shell"
	ContextContainerExec    = "container_exec"
	ContextDaemonized       = "daemonized"
	ContextCron             = "cron"
	ContextSystemd          = "systemd"
	ContextCIRunner         = "ci_runner"
)

// Event names (the log record EventName). Semantic conventions define none of these events, so
// they live in our own namespace.
const (
	EventConfigFile  = "cryptochain.process.config_file"
	EventConnect     = "cryptochain.network.connect"
	EventDataLoss    = "cryptochain.data_loss"
	EventDNSAnswer   = "cryptochain.dns.answer"
	EventDNSQuery    = "cryptochain.dns.query"
	EventExec        = "cryptochain.process.exec"
	EventExecFailed  = "cryptochain.process.exec_failed"
	EventExit        = "cryptochain.process.exit"
	EventFPURounding = "cryptochain.process.fpu_rounding"
	EventFileOpen    = "cryptochain.file.open"
	EventFileWrite   = "cryptochain.file.write"
	EventFinding     = "cryptochain.finding"
	EventKill        = "cryptochain.process.kill"
	EventPayload     = "cryptochain.network.payload"
	EventRename      = "cryptochain.process.rename"
	EventSuppressed  = "cryptochain.suppressed"
	EventSysctlWrite = "cryptochain.sysctl.write"
	EventUsage       = "cryptochain.process.usage"
)

// Values of cryptochain.finding.data_loss: why a finding may be built on incomplete input.
const (
	DataLossSuppressed = "suppressed" // repeated records of the finding's context were summarised
	DataLossRing       = "ring_loss"  // records of unknown context were lost while the finding was built
)

// Values of cryptochain.loss.ring.
const (
	RingLifecycle = "lifecycle"
	RingBulk      = "bulk"
)

// Finding attribute keys that consumers of findings (the response exporter) read; the processor
// writes them.
const (
	AttrFindingContextID         = "cryptochain.finding.context.id"
	AttrFindingDataLoss          = "cryptochain.finding.data_loss"
	AttrFindingEntryPoint        = "cryptochain.finding.entry_point"
	AttrFindingEvidencePrefix    = "cryptochain.finding.evidence."
	AttrFindingID                = "cryptochain.finding.id"
	AttrFindingLastSeen          = "cryptochain.finding.last_seen"
	AttrFindingRemediation       = "cryptochain.finding.remediation"
	AttrFindingSeverity          = "cryptochain.finding.severity"
	AttrFindingSuppressedCount   = "cryptochain.finding.suppressed_count"
	AttrResponseMinerPIDs        = "cryptochain.response.miner_pids"
	AttrResponseMinerSHA256      = "cryptochain.response.miner_sha256"
	AttrResponsePersistencePaths = "cryptochain.response.persistence_paths"
	AttrResponsePoolEndpoints    = "cryptochain.response.pool_endpoints"
)

// An update reports a finding again at the severity already reported (docs/events.md, "Findings");
// only updates carry these.
const (
	AttrFindingUpdateReasons   = "cryptochain.finding.update.reasons"   // string[]: concealment, response
	AttrFindingUpdateAdded     = "cryptochain.finding.update.added"     // map: response list → values new since the previous record
	AttrFindingUpdateCoalesced = "cryptochain.finding.update.coalesced" // int: evaluations folded into this update while it waited
)

// Record attribute keys. Semantic-convention names where one exists, `cryptochain.` for our own.
const (
	AttrConnectResult             = "cryptochain.connect.result"
	AttrDNSAnswers                = "dns.answers"
	AttrDNSCnames                 = "cryptochain.dns.cnames"
	AttrDNSID                     = "cryptochain.dns.id"
	AttrDNSQuestionName           = "dns.question.name"
	AttrDNSQuestionType           = "cryptochain.dns.question.type"
	AttrDNSRcode                  = "cryptochain.dns.rcode"
	AttrEnvPrefix                 = "process.environment_variable."
	AttrErrorType                 = "error.type"
	AttrEventSource               = "cryptochain.event.source"
	AttrFPUMXCSR                  = "cryptochain.fpu.mxcsr"
	AttrFPUNondefault             = "cryptochain.fpu.nondefault"
	AttrFPUSamples                = "cryptochain.fpu.samples"
	AttrFileContent               = "cryptochain.file.content"
	AttrFileFlags                 = "cryptochain.file.flags"
	AttrFileMode                  = "file.mode" // octal string, e.g. "0644" (FormatFileMode)
	AttrFileOperation             = "cryptochain.file.operation"
	AttrFilePath                  = "file.path"
	AttrFileReadRoot              = "cryptochain.file.read_root"   // read-back: "writer" or "host"
	AttrFileReadStatus            = "cryptochain.file.read_status" // read-back: "ok", "missing", "timeout", ...
	AttrFileResult                = "cryptochain.file.result"
	AttrFileResolved              = "cryptochain.file.resolved"      // file.path is the opened file's own path, rebuilt by the kernel
	AttrFileRoot                  = "cryptochain.file.root"          // FileRoot*: file.path is relative to a root that is not the host's
	AttrFileSourcePath            = "cryptochain.file.source_path"   // rename and link: the existing path
	AttrFileSymlinkTargetPath     = "file.symbolic_link.target_path" // symlink: what the new link points to
	AttrKillSignal                = "cryptochain.kill.signal"
	AttrLossCount                 = "cryptochain.loss.count"
	AttrLossKind                  = "cryptochain.loss.kind"
	AttrLossRing                  = "cryptochain.loss.ring"
	AttrKillTargetName            = "cryptochain.kill.target_name"
	AttrKillTargetPID             = "cryptochain.kill.target_pid"
	AttrNetworkPayload            = "cryptochain.network.payload"
	AttrNetworkTransport          = "network.transport"
	AttrNetworkType               = "network.type"
	AttrProcessAncestors          = "cryptochain.process.ancestors"
	AttrProcessArgsCount          = "process.args_count"
	AttrProcessArgsTruncated      = "cryptochain.process.args_truncated"
	AttrProcessArgsSkippedBytes   = "cryptochain.process.args_skipped_bytes" // bytes of argv between its captured head and end
	AttrProcessArgsTailIndex      = "cryptochain.process.args_tail_index"    // command_args index where the end of argv starts
	AttrProcessCreatorPID         = "cryptochain.process.creator.pid"        // who forked it, when its parent at exec is another process
	AttrProcessLineage            = "cryptochain.process.lineage"            // Lineage*: where the process's parent in the lineage comes from
	AttrProcessCPUSystem          = "cryptochain.process.cpu.system"
	AttrProcessCPUTime            = "cryptochain.process.cpu.time"
	AttrProcessMemoryRSS          = "cryptochain.process.memory.rss"
	AttrProcessTCPConnections     = "cryptochain.process.tcp.connections" // map[]: per remote endpoint, server.address, server.port and the TCPBytes* keys
	AttrProcessCPUUser            = "cryptochain.process.cpu.user"
	AttrProcessCgroupID           = "cryptochain.process.cgroup_id"
	AttrProcessComm               = "cryptochain.process.comm"
	AttrProcessCommOld            = "cryptochain.process.comm.old"
	AttrProcessCommand            = "process.command"
	AttrProcessCommandArgs        = "process.command_args"
	AttrProcessCommandLine        = "process.command_line"
	AttrProcessCreationTime       = "process.creation.time"
	AttrProcessEnvTruncated       = "cryptochain.process.env_truncated"
	AttrProcessExeDeleted         = "cryptochain.process.exe.deleted"
	AttrProcessExeMemfd           = "cryptochain.process.exe.memfd"
	AttrProcessExeUnusualLocation = "cryptochain.process.exe.unusual_location"
	AttrProcessExecutableHash     = "cryptochain.process.executable.hash.sha256"  // hex SHA-256 of the executable file
	AttrProcessExecutableHashSkip = "cryptochain.process.executable.hash.skipped" // why the hash is absent
	AttrProcessExecutableName     = "process.executable.name"
	AttrProcessExecutablePath     = "process.executable.path"
	AttrProcessExitCode           = "process.exit.code"
	AttrProcessExitSignal         = "cryptochain.process.exit.signal"
	AttrProcessExitTime           = "process.exit.time"
	AttrProcessFilename           = "cryptochain.process.filename"
	AttrProcessGroupLeaderPID     = "process.group_leader.pid"
	AttrProcessInteractive        = "process.interactive"
	AttrProcessInterpreter        = "cryptochain.process.interpreter"
	AttrProcessKthreadLike        = "cryptochain.process.kthread_like"
	AttrProcessLoginUID           = "cryptochain.process.login_uid"
	AttrProcessNameMismatch       = "cryptochain.process.name_mismatch"
	AttrProcessPID                = "process.pid"
	AttrProcessParentCreationTime = "cryptochain.process.parent.creation.time"
	AttrProcessParentPID          = "process.parent_pid"
	AttrProcessRealUserID         = "process.real_user.id"
	AttrProcessSessionLeaderPID   = "process.session_leader.pid"
	AttrProcessTTY                = "cryptochain.process.tty"
	AttrProcessUserID             = "process.user.id"
	AttrProcessVPID               = "process.vpid"
	AttrProcessWorkingDirectory   = "process.working_directory"
	AttrServerAddress             = "server.address"
	AttrServerPort                = "server.port"
	TCPBytesSent                  = "bytes_sent"     // in a cryptochain.process.tcp.connections entry: bytes acked by the peer
	TCPBytesReceived              = "bytes_received" // in a cryptochain.process.tcp.connections entry
	AttrSuppressedCount           = "cryptochain.suppressed.count"
	AttrSuppressedKind            = "cryptochain.suppressed.kind"
	AttrSysctlName                = "cryptochain.sysctl.name"
	AttrSysctlOldValue            = "cryptochain.sysctl.old_value"
	AttrSysctlValue               = "cryptochain.sysctl.value"
)

// EventSourceProcfs is the value of AttrEventSource on records of the start-up procfs snapshot; records
// of the live kernel hooks do not carry the attribute.
const EventSourceProcfs = "procfs"

// Values of AttrProcessLineage.
const (
	LineageFork     = "fork"     // the creator recorded at fork: survives reparenting
	LineageParent   = "parent"   // the parent at exec (no fork record: started before the receiver, or evicted)
	LineageSnapshot = "snapshot" // the parent when procfs was read at start: an orphan's creator is unknown
)

// Values of AttrFileRoot: why a file path is not a host path. Files under such a root start nothing on
// the host (an image layer unpacked by a container runtime, a build chroot): they are not host
// persistence.
const (
	FileRootChroot = "chroot" // the process's root is not its mount namespace's root
	// FileRootPrivate: the process has its own mount namespace and runs in no container (a runtime's
	// pivot_root into an image layer while unpacking it).
	FileRootPrivate = "private_mount_namespace"
)

// FormatFileMode renders permission bits the way file.mode carries them: four octal digits ("0644").
func FormatFileMode(mode uint32) string {
	return fmt.Sprintf("%04o", mode&0o7777)
}
