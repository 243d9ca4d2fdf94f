package classify

import (
	"strings"

	"github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/shellcmd"
)

// textTools are programs whose arguments are data, not configuration: a wallet or a stratum URL
// given to them is an analyst searching, printing or editing (grep, crontab -l output in less, …).
// Compilers and build tools are here too: compiling miner sources is not mining.
var textTools = map[string]bool{
	"grep": true, "egrep": true, "fgrep": true, "zgrep": true, "rg": true, "ag": true, "ack": true,
	"less": true, "more": true, "most": true, "cat": true, "tac": true, "head": true, "tail": true,
	"echo": true, "printf": true, "vi": true, "vim": true, "nvim": true, "nano": true, "emacs": true,
	"sed": true, "awk": true, "gawk": true, "mawk": true, "cut": true, "tr": true, "sort": true,
	"uniq": true, "wc": true, "strings": true, "file": true, "ls": true, "find": true, "locate": true,
	"which": true, "whereis": true, "man": true, "diff": true, "cmp": true, "journalctl": true,
	"tee": true, "xxd": true, "hexdump": true, "od": true, "jq": true, "yq": true, "git": true,
	"cmake": true, "make": true, "gmake": true, "ninja": true, "gcc": true, "g++": true, "cc": true,
	"c++": true, "clang": true, "clang++": true, "ld": true, "ar": true, "as": true, "go": true,
	"cargo": true, "rustc": true, "pgrep": true, "pidof": true, "ps": true, "top": true, "htop": true,
	"stat": true, "sha256sum": true, "md5sum": true, "tar": true, "gzip": true, "unzip": true,
	"yara": true, "clamscan": true,
}

// moneroTools are the Monero reference node and wallet programs: they take wallet addresses as
// arguments legitimately. Only their mining flags (monerod --start-mining) count.
var moneroTools = map[string]bool{
	"monerod": true, "monero-wallet-cli": true, "monero-wallet-rpc": true, "monero-gen-trusted-multisig": true,
	"monero-blockchain-import": true, "monero-blockchain-export": true, "monero-wallet-gui": true,
}

// Program roles, so one map lookup routes an exec.
const (
	roleNone uint8 = iota
	roleShell
	roleText
	roleMonero
	roleCrontab
	roleSysctl
	roleModprobe
	roleWRMSR
	roleCPUPower
	roleKill
	roleChattr  // chattr +i: concealment
	roleWipe    // rm, shred, truncate, unlink, ln of logs or shell history: concealment
	roleJournal // journalctl --vacuum-*, --rotate: concealment
	roleHistory // history -c, unset/export HISTFILE inside a script: concealment
)

var progRoles = func() map[string]uint8 {
	m := map[string]uint8{
		"crontab": roleCrontab, "sysctl": roleSysctl, "modprobe": roleModprobe, "insmod": roleModprobe,
		"wrmsr": roleWRMSR, "cpupower": roleCPUPower, "pkill": roleKill, "killall": roleKill, "pkill.procps": roleKill,
		"chattr": roleChattr, "rm": roleWipe, "shred": roleWipe, "truncate": roleWipe, "unlink": roleWipe, "ln": roleWipe,
		"journalctl": roleJournal, "history": roleHistory, "unset": roleHistory, "export": roleHistory,
	}
	for k := range textTools {
		m[k] = roleText
	}
	for k := range moneroTools {
		m[k] = roleMonero
	}
	for _, k := range shellcmd.Shells() {
		m[k] = roleShell // its "-c" script is split into commands and classified
	}
	m["journalctl"] = roleJournal // a pager of logs, except when it deletes them
	return m
}()

// packageManagers write unit files and cron tables as part of installing software.
var packageManagers = map[string]bool{
	"dpkg": true, "rpm": true, "apt": true, "apt-get": true, "yum": true, "dnf": true, "microdnf": true,
	"apk": true, "pacman": true, "zypper": true, "snapd": true, "unattended-upgr": true,
	"unattended-upgrade": true, "packagekitd": true, "flatpak": true,
}

// containerRuntimes unpack images and manage containers on behalf of others: what they write into an
// image's root belongs to the image, not to the context that asked for the pull.
var containerRuntimes = map[string]bool{
	"podman": true, "buildah": true, "skopeo": true, "docker": true, "dockerd": true, "containerd": true,
	"containerd-shim": true, "containerd-shim-runc-v2": true, "ctr": true, "nerdctl": true, "crio": true,
	"conmon": true, "runc": true, "crun": true, "umoci": true, "lxc-create": true, "incusd": true, "lxd": true,
	"systemd-nspawn": true, "machinectl": true, "debootstrap": true, "mmdebstrap": true,
}

// kernelThreadPrefixes are kernel thread names miners imitate. A user process named exactly one of
// these, or one followed by '/', ':' or a digit ("kworker/0:1"), or any "[name]", looks like a
// kernel thread. "kworker-metrics" does not.
var kernelThreadPrefixes = []string{
	"kworker", "kthreadd", "ksoftirqd", "kswapd", "migration", "rcu_sched", "rcu_preempt", "rcu_gp",
	"rcu_par_gp", "watchdog", "kblockd", "khugepaged", "kcompactd", "jbd2", "cpuhp", "irq", "ksmd",
	"kauditd", "oom_reaper", "writeback", "kintegrityd", "khungtaskd", "kthrotld", "kdevtmpfs",
	"kstrp", "scsi_eh", "netns", "mm_percpu_wq", "kswapd0", "idle_inject", "kerneloops",
}

// kernelByFirst groups kernelThreadPrefixes by first byte, so most names cost one table lookup.
var kernelByFirst = func() (t [256][]string) {
	for _, p := range kernelThreadPrefixes {
		t[p[0]] = append(t[p[0]], p)
	}
	return t
}()

// kernelThreadLike reports whether a user process name imitates a kernel thread.
func kernelThreadLike(name string) bool {
	if len(name) < 2 {
		return false
	}
	if len(name) >= 3 && name[0] == '[' && name[len(name)-1] == ']' {
		return true
	}
	for _, p := range kernelByFirst[name[0]] {
		if !strings.HasPrefix(name, p) {
			continue
		}
		if len(name) == len(p) {
			return true
		}
		c := name[len(p)]
		if c == '/' || c == ':' || (c >= '0' && c <= '9') {
			return true
		}
	}
	return false
}

// benignHiddenDirs are hidden directories that ordinary tool managers install executables into.
var benignHiddenDirs = []string{
	"/.local/bin/", "/.cargo/bin/", "/.rustup/", "/.nvm/", "/.vscode-server/", "/.pyenv/", "/.sdkman/",
	"/.bun/", "/.deno/", "/.cursor-server/", "/.npm/", "/.dotnet/", "/.krew/", "/.linuxbrew/", "/.asdf/",
	"/.venv/", "/.virtualenvs/", "/.tox/", "/.nox/", "/.gradle/", "/.m2/", "/.rbenv/", "/.goenv/",
}

// unusualExe returns why an executable path is an unusual place to run from, or "".
func unusualExe(exe string) string {
	if len(exe) < 6 {
		return ""
	}
	switch exe[1] { // one byte decides which prefixes can match
	case 'm':
		if strings.HasPrefix(exe, "/memfd:") {
			return "executable is a memfd"
		}
	case 't':
		if strings.HasPrefix(exe, "/tmp/") {
			return "executable in /tmp"
		}
	case 'v':
		if strings.HasPrefix(exe, "/var/tmp/") {
			return "executable in /var/tmp"
		}
	case 'd':
		if strings.HasPrefix(exe, "/dev/shm/") {
			return "executable in /dev/shm"
		}
		if strings.HasPrefix(exe, "/dev/mqueue/") {
			return "executable in a tmpfs directory"
		}
	case 'r':
		if strings.HasPrefix(exe, "/run/user/") {
			return "executable in a tmpfs directory"
		}
	}
	// A hidden directory: "/." followed by a name ("/./" and "/../" are not hidden directories).
	hidden := false
	for i := strings.IndexByte(exe, '.'); i > 0 && i+1 < len(exe); {
		if exe[i-1] == '/' && exe[i+1] != '/' && exe[i+1] != '.' && strings.IndexByte(exe[i:], '/') > 0 {
			hidden = true
			break
		}
		j := strings.IndexByte(exe[i+1:], '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	if !hidden {
		return ""
	}
	for _, d := range benignHiddenDirs {
		if strings.Contains(exe, d) {
			return ""
		}
	}
	return "executable in a hidden directory"
}

// lowerKey returns s lower-cased into buf (or s itself when already lower case) for map lookups
// without allocation; ok is false when s is longer than buf.
func lowerKey(s string, buf []byte) ([]byte, bool) {
	if len(s) > len(buf) {
		return nil, false
	}
	n := copy(buf, s)
	for i := 0; i < n; i++ {
		if c := buf[i]; c >= 'A' && c <= 'Z' {
			buf[i] = c + 'a' - 'A'
		}
	}
	return buf[:n], true
}

// nameFilter is a cheap pre-check for a name list: possible (case-folded) first two bytes and lengths.
type nameFilter struct {
	pair           [256 * 256 / 8]byte
	first          [256]bool
	minLen, maxLen int
}

func fold(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func newNameFilter[V any](m map[string]V) nameFilter {
	f := nameFilter{minLen: 1 << 30}
	for k := range m {
		if k == "" {
			continue
		}
		c := fold(k[0])
		f.first[c] = true
		if c >= 'a' && c <= 'z' {
			f.first[c-'a'+'A'] = true
		}
		if len(k) > 1 {
			i := int(c)<<8 | int(fold(k[1]))
			f.pair[i>>3] |= 1 << (i & 7)
		}
		f.minLen = min(f.minLen, len(k))
		f.maxLen = max(f.maxLen, len(k))
	}
	return f
}

// maybe reports whether s could be in the list (no false negatives).
func (f *nameFilter) maybe(s string) bool {
	if len(s) < f.minLen || len(s) > f.maxLen || !f.first[s[0]] {
		return false
	}
	if len(s) == 1 {
		return true
	}
	i := int(fold(s[0]))<<8 | int(fold(s[1]))
	return f.pair[i>>3]&(1<<(i&7)) != 0
}

// hasUpper reports whether s has ASCII upper-case letters.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// minerName returns the matched miner-list entry for an executable name, or "". A version or
// platform suffix ("xmrig-6.21.0", "xmrig_x64", "xmrig.bin") is cut before a second lookup.
func (c *Classifier) minerName(name string) (string, string) {
	if len(name) < 2 || !c.minerFilter.first[name[0]] {
		return "", ""
	}
	if i := int(fold(name[0]))<<8 | int(fold(name[1])); c.minerFilter.pair[i>>3]&(1<<(i&7)) == 0 {
		return "", ""
	}
	if n, src := c.minerNameExact(name); n != "" {
		return n, src
	}
	for i := 1; i < len(name); i++ {
		if ch := name[i]; ch == '-' || ch == '_' || ch == '.' {
			if n, src := c.minerNameExact(name[:i]); n != "" {
				return name, src
			}
		}
	}
	return "", ""
}

func (c *Classifier) minerNameExact(name string) (string, string) {
	if !c.minerFilter.maybe(name) {
		return "", ""
	}
	if !hasUpper(name) {
		if src, ok := c.set.MinerNames[name]; ok {
			return name, src
		}
		return "", ""
	}
	var buf [64]byte
	k, ok := lowerKey(name, buf[:])
	if !ok {
		return "", ""
	}
	if src, ok := c.set.MinerNames[string(k)]; ok {
		return name, src
	}
	return "", ""
}
