package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cryptochain-otel/cryptochain/internal/sim/fakedns"
	"github.com/cryptochain-otel/cryptochain/internal/sim/fakepool"
	"github.com/cryptochain-otel/cryptochain/internal/sim/journal"
	"github.com/cryptochain-otel/cryptochain/internal/sim/netns"
	"github.com/cryptochain-otel/cryptochain/internal/sim/scenario"
)

type options struct {
	dryRun, noSession, pauseOnRestart bool
	resultPath, fakeminer             string
}

type player struct {
	ctx    context.Context
	o      options
	sc     *scenario.Scenario
	j      *journal.Journal
	ns     string
	dns    *fakedns.Server
	pools  []*fakepool.Pool
	bg     []*exec.Cmd
	res    scenario.Result
	dirs   int
	stdout io.Writer
}

func play(sc *scenario.Scenario, o options) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	j, err := journal.Open(filepath.Join(journalDir, fmt.Sprintf("journal-%d.json", os.Getpid())))
	if err != nil {
		return err
	}
	p := &player{ctx: ctx, o: o, sc: sc, j: j, stdout: os.Stdout,
		res: scenario.Result{Scenario: sc.Name, SessionPid: os.Getpid()}}
	defer func() {
		p.stopAll()
		if rerr := j.Restore(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("restore (run `chainsim restore` to retry): %w", rerr))
		}
		if err != nil {
			p.res.Error = err.Error()
		}
		if o.resultPath != "" {
			b, _ := json.MarshalIndent(p.res, "", "  ")
			if werr := os.WriteFile(o.resultPath, b, 0o644); werr != nil {
				err = errors.Join(err, werr)
			}
		}
	}()
	if sc.Network != nil {
		if err := p.startNetwork(); err != nil {
			return fmt.Errorf("network: %w", err)
		}
	}
	for i, st := range sc.Steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted before step %d", i)
		}
		fmt.Fprintf(p.stdout, "chainsim: [%d/%d] %s\n", i+1, len(sc.Steps), describe(st))
		if err := p.step(st); err != nil {
			return fmt.Errorf("steps[%d]: %w", i, err)
		}
		p.res.LastStep = time.Now().UnixNano()
		p.res.StepEnds = append(p.res.StepEnds, p.res.LastStep)
	}
	if err := p.waitBackground(); err != nil {
		return err
	}
	if p.dns != nil {
		p.res.DNSQueries = p.dns.Queries()
	}
	for _, pool := range p.pools {
		for _, l := range pool.Logins() {
			p.res.PoolLogins = append(p.res.PoolLogins, l.Wallet)
		}
	}
	fmt.Fprintf(p.stdout, "chainsim: %s played (miner pids %v)\n", sc.Name, p.res.MinerPids)
	return nil
}

// startNetwork creates the namespace and starts the fake DNS server and the
// fake pools inside it.
func (p *player) startNetwork() error {
	p.ns = fmt.Sprintf("chainsim-%d", os.Getpid())
	p.res.Netns = p.ns
	if err := netns.Create(p.j, p.ns); err != nil {
		return err
	}
	table := map[string]fakedns.Record{}
	for name, r := range p.sc.Network.DNS {
		rec := fakedns.Record{CNAME: r.CNAME}
		for _, a := range r.A {
			rec.A = append(rec.A, net.ParseIP(a))
		}
		table[name] = rec
	}
	srv, err := fakedns.New(table)
	if err != nil {
		return err
	}
	var pc net.PacketConn
	var dl net.Listener
	var pls []net.Listener
	err = netns.Do(p.ns, func() error {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:53"); err != nil {
			return err
		}
		if dl, err = net.Listen("tcp", "127.0.0.1:53"); err != nil {
			return err
		}
		// Pools listen on every address of the namespace, which has only
		// loopback: each scenario answers its pool names with its own
		// 127.x address, so scenarios never share a pool address.
		for _, port := range p.sc.Network.PoolPorts {
			l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
			if err != nil {
				return err
			}
			pls = append(pls, l)
		}
		for _, port := range p.sc.Network.TLSPoolPorts {
			l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
			if err != nil {
				return err
			}
			tl, err := fakepool.TLSListener(l)
			if err != nil {
				_ = l.Close()
				return err
			}
			pls = append(pls, tl)
		}
		return nil
	})
	if err != nil {
		for _, c := range []io.Closer{pc, dl} {
			if c != nil {
				_ = c.Close()
			}
		}
		for _, l := range pls {
			_ = l.Close()
		}
		return err
	}
	srv.Serve(pc, dl)
	p.dns = srv
	for _, l := range pls {
		p.pools = append(p.pools, fakepool.Serve(l))
	}
	return nil
}

func (p *player) stopAll() {
	for _, c := range p.bg {
		if c.ProcessState == nil && c.Process != nil {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	if p.dns != nil {
		_ = p.dns.Close()
	}
	for _, pool := range p.pools {
		_ = pool.Close()
	}
}

func (p *player) waitBackground() error {
	var errs []error
	for _, c := range p.bg {
		if c.ProcessState == nil {
			if err := c.Wait(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", c.Path, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (p *player) step(st scenario.Step) error {
	switch {
	case st.Miner != nil:
		return p.miner(st.Miner)
	case st.Container != nil:
		return p.container(st.Container)
	case st.Crontab != "":
		return p.crontab(st.Crontab)
	case st.CrontabL:
		// `crontab -l` exits 1 when there is none: that is fine.
		return p.command(exec.CommandContext(p.ctx, "crontab", "-l"), true)
	case st.CronD != nil:
		path := filepath.Join("/etc/cron.d", st.CronD.Name)
		p.res.Markers = append(p.res.Markers, path)
		return p.j.WriteFile(path, []byte(st.CronD.Line+"\n"), 0o644)
	case st.Sysctl != nil:
		return p.j.WriteProc(sysctlPath(st.Sysctl.Name), st.Sysctl.Value)
	case st.DropCaches != "":
		// Not a setting: nothing to restore.
		return os.WriteFile("/proc/sys/vm/drop_caches", []byte(st.DropCaches), 0)
	case st.MSR:
		p.msr()
		return nil
	case len(st.Modprobe) > 0:
		return p.modprobe(st.Modprobe)
	case st.Exec != nil:
		return p.exec(st.Exec)
	case st.WriteFile != nil:
		return p.writeFile(st.WriteFile)
	case st.Sleep != 0:
		select {
		case <-time.After(time.Duration(st.Sleep)):
			return nil
		case <-p.ctx.Done():
			return errors.New("interrupted")
		}
	case st.Restart:
		if !p.o.pauseOnRestart {
			return nil
		}
		fmt.Fprintln(p.stdout, "CHAINSIM RESTART")
		_, err := bufio.NewReader(os.Stdin).ReadString('\n')
		return err
	}
	return errors.New("empty step")
}

func sysctlPath(name string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
}

// installDir makes a fresh hidden directory under /tmp (or dir when given).
func (p *player) installDir(dir string) (string, error) {
	if dir == "" {
		p.dirs++
		dir = filepath.Join(os.TempDir(), fmt.Sprintf(".chainsim-%d-%d", os.Getpid(), p.dirs))
	}
	if _, err := os.Stat(dir); err == nil {
		return "", fmt.Errorf("%s exists; refusing to install over it", dir)
	}
	p.res.Markers = append(p.res.Markers, dir)
	if err := p.j.Created(dir); err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o755)
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (p *player) miner(m *scenario.Miner) error {
	src, err := exec.LookPath(p.o.fakeminer)
	if err != nil {
		return fmt.Errorf("fake miner: %w (build it: go build -o _build/fakeminer ./cmd/fakeminer)", err)
	}
	dir, err := p.installDir(m.Dir)
	if err != nil {
		return err
	}
	name := m.Name
	if name == "" {
		name = "xmrig"
	}
	path := filepath.Join(dir, name)
	if err := copyExecutable(src, path); err != nil {
		return err
	}
	if m.Config != nil {
		b, err := json.MarshalIndent(m.Config, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
			return err
		}
	}
	args := append(scenario.Padding(m.PadArgs), m.Args...)
	cmd := exec.CommandContext(p.ctx, path, args...)
	if m.DoubleFork {
		// sh forks a subshell that forks the miner's process in the background and exits at once;
		// the miner's process waits until it is an orphan, then execs.
		cmd = exec.CommandContext(p.ctx, "/bin/sh", append([]string{"-c", `( ( sleep 0.3; exec "$0" "$@" ) & ); exit 0`, path}, args...)...)
	}
	if m.ViaCron {
		launcher, err := p.fakeCron()
		if err != nil {
			return err
		}
		// Like cron: the job runs as a child of the cron process (no exec in place).
		cmd = exec.CommandContext(p.ctx, launcher, append([]string{"-c", `"$@"`, "cron", path}, m.Args...)...)
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), minerEnv(m.Duration, m.FPU, m.Memfd, m.Comm)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if m.Builtin != "" {
		cmd.Stdin = strings.NewReader(m.Builtin + "\n")
	}
	if err := netns.Start(p.ns, cmd); err != nil {
		return err
	}
	minerPid := cmd.Process.Pid
	p.res.Pids = append(p.res.Pids, minerPid)
	if m.DoubleFork {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("double fork: %w", err)
		}
		if minerPid = runningExe(path, 5*time.Second); minerPid == 0 {
			return fmt.Errorf("double fork: the orphaned miner %s did not start", path)
		}
		p.res.Pids = append(p.res.Pids, minerPid)
		p.res.MinerPids = append(p.res.MinerPids, minerPid)
		return waitGone(p.ctx, minerPid)
	}
	if m.ViaCron {
		minerPid = childOf(minerPid, 5*time.Second)
		p.res.Pids = append(p.res.Pids, minerPid)
	}
	p.res.MinerPids = append(p.res.MinerPids, minerPid)
	if m.Background {
		p.bg = append(p.bg, cmd)
		return nil
	}
	return cmd.Wait()
}

func minerEnv(d scenario.Duration, fpu, memfd bool, comm string) []string {
	var env []string
	if d != 0 {
		env = append(env, "CHAINSIM_DURATION="+time.Duration(d).String())
	}
	if fpu {
		env = append(env, "CHAINSIM_FPU=1")
	}
	if memfd {
		env = append(env, "CHAINSIM_MEMFD=1")
	}
	if comm != "" {
		env = append(env, "CHAINSIM_COMM="+comm)
	}
	return env
}

func (p *player) crontab(line string) error {
	if err := p.j.CrontabSave("root"); err != nil {
		return err
	}
	old, _ := exec.Command("crontab", "-l").Output()
	cmd := exec.CommandContext(p.ctx, "crontab", "-")
	cmd.Stdin = strings.NewReader(string(old) + line + "\n")
	return p.command(cmd, false)
}

func (p *player) command(cmd *exec.Cmd, mayFail bool) error {
	return p.commandIn("", cmd, mayFail)
}

// commandIn runs cmd to its end, inside namespace ns when ns is not empty.
func (p *player) commandIn(ns string, cmd *exec.Cmd, mayFail bool) error {
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := cmd.Start
	if ns != "" {
		start = func() error { return netns.Start(ns, cmd) }
	}
	if err := start(); err != nil {
		return err
	}
	p.res.Pids = append(p.res.Pids, cmd.Process.Pid)
	err := cmd.Wait()
	var ee *exec.ExitError
	if mayFail && errors.As(err, &ee) {
		return nil
	}
	return err
}

// msr tries to open every CPU's MSR device for writing, as miners do before
// a wrmsr tweak. The devices do not exist here; the attempts are the point.
func (p *player) msr() {
	cpus, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*")
	for i := range max(len(cpus), 1) {
		f, err := os.OpenFile(fmt.Sprintf("/dev/cpu/%d/msr", i), os.O_RDWR, 0)
		if err == nil {
			// Never write to it: opening was the observable step.
			f.Close()
		}
	}
}

// modprobe runs `modprobe <args>`; where modprobe is not installed the
// exec of its usual path still happens (and fails), which is what is observed.
func (p *player) modprobe(args []string) error {
	path, err := exec.LookPath("modprobe")
	if err != nil {
		path = "/sbin/modprobe"
	}
	cmd := exec.CommandContext(p.ctx, path, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	// Loading msr with writes allowed fails here (no loadable modules) or
	// the binary is missing: either way the attempt is the step.
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "chainsim: modprobe attempt failed as expected: %v\n", err)
	}
	if cmd.Process != nil {
		p.res.Pids = append(p.res.Pids, cmd.Process.Pid)
	}
	return nil
}

func (p *player) exec(e *scenario.Exec) error {
	argv := append(append([]string{e.Argv[0]}, scenario.Padding(e.PadArgs)...), e.Argv[1:]...)
	// "@fakeminer" names the simulator's own fake binary (for look-alikes
	// that use one of its non-mining modes).
	if argv[0] == "@fakeminer" {
		argv[0] = p.o.fakeminer
	}
	for _, c := range e.Creates {
		if err := p.j.Track(c); err != nil {
			return err
		}
		p.res.Markers = append(p.res.Markers, c)
	}
	if e.Name != "" {
		src, err := exec.LookPath(argv[0])
		if err != nil {
			return err
		}
		dir, err := p.installDir(e.Dir)
		if err != nil {
			return err
		}
		argv[0] = filepath.Join(dir, e.Name)
		if err := copyExecutable(src, argv[0]); err != nil {
			return err
		}
	}
	if !e.Netns {
		cmd := exec.CommandContext(p.ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), e.Env...)
		return p.command(cmd, e.MayFail)
	}
	cmd := exec.CommandContext(p.ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), e.Env...)
	return p.commandIn(p.ns, cmd, e.MayFail)
}

func (p *player) writeFile(w *scenario.WriteFile) error {
	p.res.Markers = append(p.res.Markers, w.Path)
	dir := filepath.Dir(w.Path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		// Record the topmost missing directory so the whole tree goes away.
		top := dir
		for {
			parent := filepath.Dir(top)
			if _, err := os.Stat(parent); err == nil || parent == top {
				break
			}
			top = parent
		}
		if err := p.j.Created(top); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return p.j.WriteFile(w.Path, []byte(w.Content), 0o644)
}

// fakeCron installs a copy of /bin/sh named cron, so a job it starts has a
// parent whose name is cron, as when the real daemon re-spawns it.
func (p *player) fakeCron() (string, error) {
	dir, err := p.installDir("")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "cron")
	return path, copyExecutable("/bin/sh", path)
}

// childOf waits for the first child of pid to appear and returns it (0 if none).
// runningExe returns the pid of a process running the executable path, 0 when none appears within
// timeout (an orphan is nobody's child chainsim can wait for).
func runningExe(path string, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe == path {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0
}

// waitGone waits until process pid has exited (it is not chainsim's child), or ctx is done.
func waitGone(ctx context.Context, pid int) error {
	for {
		if err := syscall.Kill(pid, 0); err != nil {
			return nil
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
				return nil // exited; its new parent has not reaped it yet
			}
		}
		select {
		case <-ctx.Done():
			syscall.Kill(pid, syscall.SIGKILL)
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func childOf(pid int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if err != nil {
			return 0
		}
		var child int
		if _, err := fmt.Sscan(string(b), &child); err == nil && child > 0 {
			return child
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0
}
