package ebpfreceiver // import "github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver"

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/cgroups"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/dnsparse"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/event"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/execctx"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/procfs"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/proctable"
	"github.com/cryptochain-otel/cryptochain/receiver/ebpfreceiver/internal/records"
)

const (
	procTableSize  = 32768
	exitGrace      = 5 * time.Second
	maxAncestors   = 8
	dnsPending     = 4096
	contentDelay   = 300 * time.Millisecond // a persistence file is read back this long after the write
	maxPendingRead = 256
	missingPIDs    = 1024
	missingFor     = 2 * time.Second // a reused pid is asked about again after this
)

// pipeline turns events into records: it keeps the process table and contexts, parses DNS and
// batches records. It knows nothing about the Collector beyond pdata, so it is tested with a fake
// source. All methods are safe for concurrent use.
type pipeline struct {
	mu       sync.Mutex
	cfg      *Config
	table    *proctable.Table
	tracker  *execctx.Tracker
	cgroups  *cgroups.Resolver
	procfs   *procfs.Reader
	mapper   *records.Mapper
	dns      *dnsparse.Matcher[event.Process]
	batch    *records.Batch
	pending  []pendingRecord
	conf     *configReader                 // nil when config_files is off
	missing  *lru.Cache[uint32, time.Time] // pids procfs could not give us lately: not asked again soon
	hostRoot string

	parseErrors uint64 // DNS packets that could not be decoded
}

// pendingRecord is a persistence write whose content is read back once the writer is done.
type pendingRecord struct {
	ev    event.Event
	actor records.Actor
	res   records.Resource
	read  time.Time // when the event was read
	due   time.Time
}

func newPipeline(cfg *Config, host records.Host, scope string, cgroupRoot string) *pipeline {
	p := &pipeline{
		cfg:     cfg,
		table:   proctable.New(procTableSize, exitGrace),
		tracker: execctx.NewTracker(8192, bootID(cfg.ProcfsRoot)),
		cgroups: cgroups.NewResolver(cgroupRoot),
		mapper: &records.Mapper{
			Clock:    records.NewClock(),
			Redactor: &records.Redactor{Values: cfg.Env.Values, Patterns: cfg.secretPatterns()},
			MaxArgs:  cfg.Argv.MaxArgs, MaxArgBytes: cfg.Argv.MaxBytes,
			MaxEnv: cfg.Env.MaxVars, MaxEnvBytes: cfg.Env.MaxBytes,
		},
		dns:      dnsparse.NewMatcher[event.Process](dnsPending),
		missing:  must(lru.New[uint32, time.Time](missingPIDs)),
		batch:    records.NewBatch(host, scope),
		hostRoot: cfg.HostRoot,
	}
	if cfg.ConfigFiles.Enabled {
		p.conf = newConfigReader(cfg.ConfigFiles, cfg.ProcfsRoot)
	}
	p.procfs = &procfs.Reader{Root: cfg.ProcfsRoot, ClockTicks: 100,
		Limits:   procfs.Limits{MaxArgs: cfg.Argv.MaxArgs, MaxArgBytes: cfg.Argv.MaxBytes, MaxEnv: cfg.Env.MaxVars, MaxEnvBytes: cfg.Env.MaxBytes},
		CgroupID: p.cgroupID}
	return p
}

// cgroupID returns the id (inode) of a cgroup v2 path, 0 when it cannot be found.
func (p *pipeline) cgroupID(cgPath string) uint64 {
	if p.cgroups.Root == "" {
		return 0
	}
	return statInode(filepath.Join(p.cgroups.Root, cgPath))
}

// handle maps one event; it returns the number of records in the batch afterwards.
func (p *pipeline) handle(ev *event.Event, observed time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var extra records.Extra
	var actor records.Actor
	var res records.Resource
	switch {
	case ev.Exec != nil:
		proc := p.exec(ev, ev.Exec.FromSnapshot)
		actor = records.Actor{Proc: proc, Ancestors: p.table.Ancestors(proc.Key, maxAncestors)}
		res = resourceOf(proc)
		if p.conf != nil {
			p.conf.offer(ev, actor, res, observed)
		}
	case ev.DNS != nil:
		msg, err := dnsparse.Parse(ev.DNS.Payload)
		if err != nil {
			p.parseErrors++
		} else {
			extra.DNS = &msg
		}
		if ev.DNS.Egress && extra.DNS != nil && ev.Proc.PID != 0 {
			p.dns.Query(ev.DNS.SrcPort, msg.ID, ev.Proc)
		}
		if !ev.DNS.Egress && extra.DNS != nil {
			// The answer is attributed to the process that asked, when the hook saw no process
			// or saw a different one (an answer read by another thread of a resolver daemon).
			if who, ok := p.dns.Answer(ev.DNS.DstPort, msg.ID); ok && (ev.Proc.PID == 0 || ev.Proc.PID != who.PID) {
				ev.Proc = who
			}
		}
		actor, res = p.actor(ev)
	default:
		actor, res = p.actor(ev)
	}
	if ev.Proc.Lean && actor.Proc != nil {
		completeLean(&ev.Proc, actor.Proc)
	}
	if ev.Kill != nil {
		if t, ok := p.table.Get(proctable.Key{PID: ev.Kill.TargetPID}); ok {
			extra.KillTarget = t.Comm
			if t.Exe != "" {
				extra.KillTarget = path.Base(t.Exe)
			}
		}
	}
	if ev.Rename != nil && actor.Proc != nil {
		actor.Proc.Comm = ev.Rename.NewComm
	}
	if ev.File != nil && p.cfg.FileContentBytes > 0 && len(ev.File.Content) == 0 && isPersistence(ev.File) && len(p.pending) < maxPendingRead {
		cp := *ev
		f := *ev.File
		cp.File = &f
		cp.Proc.Comm = strings.Clone(ev.Proc.Comm)
		p.pending = append(p.pending, pendingRecord{ev: cp, actor: actor, res: res, read: observed, due: observed.Add(contentDelay)})
		return p.batch.Len()
	}
	p.mapper.Fill(p.batch.NewRecord(res), ev, actor, extra, observed)
	if ev.Exit != nil {
		p.table.Exit(proctable.Key{PID: ev.Proc.PID, Start: ev.Proc.StartBootNS}, observed)
	}
	return p.batch.Len()
}

// exec updates the process table for an exec and returns the new image. atStart says the process
// was found by the start-up snapshot (its cgroup then gets a boot context), not while running.
func (p *pipeline) exec(ev *event.Event, atStart bool) *proctable.Proc {
	key := proctable.Key{PID: ev.Proc.PID, Start: ev.Proc.StartBootNS}
	proc := &proctable.Proc{
		Key:    key,
		Parent: proctable.Key{PID: ev.Proc.PPID, Start: ev.Proc.ParentStartNS},
		Exe:    ev.Exec.ExePath, Comm: ev.Proc.Comm,
		CgroupID: ev.Proc.CgroupID, VPID: ev.Proc.VPID,
		UID: ev.Proc.UID, EUID: ev.Proc.EUID, LoginUID: ev.Proc.LoginUID, SessionID: ev.Proc.SessionID,
		TTY: ev.Exec.TTY, SID: ev.Exec.SID, PGID: ev.Exec.PGID,
	}
	if proc.Exe == "" {
		proc.Exe = ev.Exec.Filename
	}
	for i, a := range ev.Exec.Args {
		if i >= 4 {
			break
		}
		proc.Args = append(proc.Args, records.SafeString(a, 256))
	}
	for _, e := range ev.Exec.Env {
		if execctx.HasCIMarker(string(e[:min(len(e), 64)])) {
			proc.CI = true
			break
		}
	}
	proc.CgroupPath = p.cgroupPath(ev)
	id := cgroups.Parse(proc.CgroupPath)
	proc.ContainerID, proc.PodUID = id.ContainerID, id.PodUID

	// The context is decided against the previous image of this process when it exec'd before,
	// otherwise against its parent (found in procfs if the table never saw it).
	parent, ok := p.table.Get(key)
	if !ok {
		parent, ok = p.table.Get(proc.Parent)
		if !ok && !atStart && proc.Parent.PID != 0 {
			parent, ok = p.fillFromProcfs(proc.Parent.PID)
		}
	}
	var parentRules *execctx.Proc
	if ok {
		parentRules = rulesProc(parent)
	}
	proc.Context = p.tracker.Decide(parentRules, rulesProc(proc), proc.CgroupPath, atStart)
	p.table.Put(proc)
	p.missing.Remove(proc.PID)
	return proc
}

// actor returns the acting process of a non-exec event and its resource.
func (p *pipeline) actor(ev *event.Event) (records.Actor, records.Resource) {
	if ev.Proc.PID == 0 {
		return records.Actor{}, records.Resource{Context: p.tracker.Enter("")}
	}
	key := proctable.Key{PID: ev.Proc.PID, Start: ev.Proc.StartBootNS}
	proc, ok := p.table.Get(key)
	if !ok {
		proc, ok = p.forked(ev)
	}
	if !ok {
		proc, ok = p.fillFromProcfs(ev.Proc.PID)
	}
	if !ok {
		cg := p.cgroupPath(ev)
		id := cgroups.Parse(cg)
		return records.Actor{}, records.Resource{Context: p.tracker.Enter(cg), CgroupPath: cg, ContainerID: id.ContainerID, PodUID: id.PodUID}
	}
	return records.Actor{Proc: proc, Ancestors: p.table.Ancestors(proc.Key, maxAncestors)}, resourceOf(proc)
}

// forked learns a process the table never saw exec whose parent it knows (from the event header's
// parent pid and start time): a fork that did not exec (yet) runs its parent's image, so it takes
// the parent's image and context. Learning it makes its later events cheap, and its own exec is
// then compared with that image like any re-exec.
func (p *pipeline) forked(ev *event.Event) (*proctable.Proc, bool) {
	if ev.Proc.PPID == 0 || ev.Proc.StartBootNS == 0 {
		return nil, false
	}
	parent, ok := p.table.Get(proctable.Key{PID: ev.Proc.PPID, Start: ev.Proc.ParentStartNS})
	if !ok {
		return nil, false
	}
	child := *parent
	child.Key = proctable.Key{PID: ev.Proc.PID, Start: ev.Proc.StartBootNS}
	child.Parent = parent.Key
	child.Comm = ev.Proc.Comm
	child.VPID = ev.Proc.VPID
	if !ev.Proc.Lean { // a lean header has no credentials: the fork keeps its parent's
		child.UID, child.EUID = ev.Proc.UID, ev.Proc.EUID
		child.LoginUID, child.SessionID = ev.Proc.LoginUID, ev.Proc.SessionID
	}
	if ev.Proc.CgroupID != 0 && ev.Proc.CgroupID != parent.CgroupID {
		// Moved to another cgroup after the fork (a runtime's child entering a new container): that
		// crosses a boundary, so the rules decide, as for an exec.
		child.CgroupID = ev.Proc.CgroupID
		child.CgroupPath = p.cgroupPath(ev)
		id := cgroups.Parse(child.CgroupPath)
		child.ContainerID, child.PodUID = id.ContainerID, id.PodUID
		child.Context = p.tracker.Decide(rulesProc(parent), rulesProc(&child), child.CgroupPath, false)
	}
	child.ClearExit()
	p.table.Put(&child)
	p.missing.Remove(child.PID)
	return &child, true
}

// fillFromProcfs reads a process the table never saw (started before the snapshot's view, or
// whose exec was lost) and stores it with a context derived from its parent when known.
func (p *pipeline) fillFromProcfs(pid uint32) (*proctable.Proc, bool) {
	if at, ok := p.missing.Get(pid); ok && time.Since(at) < missingFor {
		return nil, false
	}
	ev, err := p.procfs.Process(pid)
	if err != nil {
		// Gone (or a kernel thread): a burst of its late events costs one read, not one each.
		p.missing.Add(pid, time.Now())
		return nil, false
	}
	return p.exec(ev, false), true
}

// bootID reads the host's boot id under the procfs root; context ids are derived from it.
func bootID(procfsRoot string) string {
	b, err := os.ReadFile(filepath.Join(procfsRoot, "sys/kernel/random/boot_id"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (p *pipeline) cgroupPath(ev *event.Event) string {
	if ev.Proc.CgroupID != 0 {
		if cg, ok := p.cgroups.Path(ev.Proc.CgroupID); ok {
			return cg
		}
	}
	if ev.Proc.PID == 0 {
		return ""
	}
	// A cgroup created a moment ago (a container start) may not be walked yet, or already gone:
	// ask procfs while the process lives, and remember the answer.
	cg := p.procfs.CgroupPath(ev.Proc.PID)
	if cg != "" && ev.Proc.CgroupID != 0 {
		// The pid may have been reused by now: trust the answer only if that cgroup has the id.
		if p.cgroupID(cg) != ev.Proc.CgroupID {
			cg = ""
		} else {
			p.cgroups.Learn(ev.Proc.CgroupID, cg)
		}
	}
	if cg == "" && ev.Exec != nil && ev.Exec.CgroupLeafName != "" {
		// Last resort: the kernfs name the kernel saw (libpod-<id>, docker-<id>.scope) still
		// names the container.
		cg = "/" + ev.Exec.CgroupLeafName
	}
	return cg
}

// completeLean fills what a lean kernel header leaves out from the process table. A fork learned
// from a lean header has no namespaced pid of its own (VPID stays 0 and is not reported).
func completeLean(ev *event.Process, p *proctable.Proc) {
	if p.PID != ev.PID || p.Start != ev.StartBootNS {
		return
	}
	ev.VPID = p.VPID
	ev.UID, ev.EUID = p.UID, p.EUID
	ev.LoginUID, ev.SessionID = p.LoginUID, p.SessionID
}

func resourceOf(proc *proctable.Proc) records.Resource {
	return records.Resource{Context: proc.Context, CgroupPath: proc.CgroupPath, ContainerID: proc.ContainerID, PodUID: proc.PodUID}
}

func rulesProc(p *proctable.Proc) *execctx.Proc {
	return &execctx.Proc{PID: p.PID, Start: p.Start, ExeName: path.Base(p.Exe), Comm: p.Comm, Args: p.Args, CgroupID: p.CgroupID,
		LoginUID: p.LoginUID, SessionID: p.SessionID, TTY: p.TTY, SID: p.SID, CI: p.CI, Context: p.Context}
}

// duePending maps the persistence writes whose read-back time has come (all of them when force).
func (p *pipeline) duePending(now time.Time, force bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	keep := p.pending[:0]
	for _, pr := range p.pending {
		if !force && now.Before(pr.due) {
			keep = append(keep, pr)
			continue
		}
		// Read through the writer's own root (its mount namespace: a container's /etc/cron.d is not
		// the host's) while it lives, else under the host root.
		content := readHead(filepath.Join(p.cfg.ProcfsRoot, strconv.FormatUint(uint64(pr.ev.Proc.PID), 10), "root", pr.ev.File.Path), p.cfg.FileContentBytes)
		if content == nil {
			content = readHead(filepath.Join(p.hostRoot, pr.ev.File.Path), p.cfg.FileContentBytes)
		}
		p.mapper.Fill(p.batch.NewRecord(pr.res), &pr.ev, pr.actor, records.Extra{FileContent: content}, pr.read)
	}
	for i := len(keep); i < len(p.pending); i++ {
		p.pending[i] = pendingRecord{}
	}
	p.pending = keep
}

// emitConfig adds a process.config_file record for a miner config found by the config reader.
func (p *pipeline) emitConfig(job *configJob, filePath string, content []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mapper.FillConfigFile(p.batch.NewRecord(job.res), &job.ev, job.actor, filePath, content, time.Now())
}

// take returns the batch (and its size) and starts a new one.
func (p *pipeline) take() (plog.Logs, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.batch.Len()
	if n == 0 {
		return plog.Logs{}, 0
	}
	return p.batch.Take(), n
}

func (p *pipeline) housekeeping(now time.Time) {
	p.table.Sweep(now)
}

// isPersistence says whether a successful write-like operation targets a cron table, a systemd
// unit or an init script: its content is worth reading back.
func isPersistence(f *event.File) bool {
	if f.Errno != 0 || f.Op == event.FileUnlink || f.Op == event.FileChmod || (f.Op == event.FileOpen && !f.WriteIntent) {
		return false
	}
	for _, pre := range []string{"/etc/cron", "/var/spool/cron/", "/etc/anacrontab", "/etc/systemd/", "/lib/systemd/system/",
		"/usr/lib/systemd/system/", "/run/systemd/system/", "/etc/init.d/", "/etc/rc", "/var/spool/at/", "/etc/ld.so.preload"} {
		if strings.HasPrefix(f.Path, pre) {
			return true
		}
	}
	return strings.Contains(f.Path, "/.config/systemd/")
}

// readHead reads at most n bytes of a regular file, without following it into a fifo or device.
func readHead(name string, n int) []byte {
	b, err := readRegularHead(name, n)
	if err != nil {
		return nil
	}
	return bytes.Clone(b)
}
