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
	EventSysctlWrite = "cryptochain.sysctl.write"
)

// Finding attribute keys that consumers of findings (the response exporter) read; the processor
// writes them.
const (
	AttrFindingContextID         = "cryptochain.finding.context.id"
	AttrFindingEntryPoint        = "cryptochain.finding.entry_point"
	AttrFindingEvidencePrefix    = "cryptochain.finding.evidence."
	AttrFindingID                = "cryptochain.finding.id"
	AttrFindingLastSeen          = "cryptochain.finding.last_seen"
	AttrFindingRemediation       = "cryptochain.finding.remediation"
	AttrFindingSeverity          = "cryptochain.finding.severity"
	AttrResponseMinerPIDs        = "cryptochain.response.miner_pids"
	AttrResponseMinerSHA256      = "cryptochain.response.miner_sha256"
	AttrResponsePersistencePaths = "cryptochain.response.persistence_paths"
	AttrResponsePoolEndpoints    = "cryptochain.response.pool_endpoints"
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
	AttrFileResult                = "cryptochain.file.result"
	AttrFileSourcePath            = "cryptochain.file.source_path"   // rename and link: the existing path
	AttrFileSymlinkTargetPath     = "file.symbolic_link.target_path" // symlink: what the new link points to
	AttrKillSignal                = "cryptochain.kill.signal"
	AttrKillTargetName            = "cryptochain.kill.target_name"
	AttrKillTargetPID             = "cryptochain.kill.target_pid"
	AttrNetworkPayload            = "cryptochain.network.payload"
	AttrNetworkTransport          = "network.transport"
	AttrNetworkType               = "network.type"
	AttrProcessAncestors          = "cryptochain.process.ancestors"
	AttrProcessArgsCount          = "process.args_count"
	AttrProcessArgsTruncated      = "cryptochain.process.args_truncated"
	AttrProcessCPUSystem          = "cryptochain.process.cpu.system"
	AttrProcessCPUTime            = "cryptochain.process.cpu.time"
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
	AttrSysctlName                = "cryptochain.sysctl.name"
	AttrSysctlOldValue            = "cryptochain.sysctl.old_value"
	AttrSysctlValue               = "cryptochain.sysctl.value"
)

// FormatFileMode renders permission bits the way file.mode carries them: four octal digits ("0644").
func FormatFileMode(mode uint32) string {
	return fmt.Sprintf("%04o", mode&0o7777)
}
