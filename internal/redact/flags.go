package redact

import "strings"

// Tools whose short flags mean something particular.
var (
	// -pSECRET (attached) is the password; "-p x" alone means "ask", so x is not redacted.
	mysqlFamily = set("mysql", "mariadb", "mysqldump", "mysqladmin", "mysqlimport", "mysqlshow", "mysqlcheck", "mariadb-dump", "mariadb-admin")
	// -p takes the password as the next (or the attached) argument.
	passwordP = set("sshpass", "mongo", "mongosh", "mongodump", "mongorestore", "mongoexport", "mongoimport", "docker-login")
	// -p/-P take something else than a password (a port, a pid, a path, a prompt, "parents").
	notPasswordP = set("mkdir", "cp", "install", "ssh", "scp", "sftp", "nc", "ncat", "netcat", "socat", "ps", "strace",
		"ltrace", "gdb", "perf", "kill", "pkill", "pgrep", "lsof", "docker", "podman", "nerdctl", "kubectl", "tar", "rsync",
		"patch", "git", "ip", "nmap", "sudo", "read", "taskset", "chrt", "renice", "prlimit", "nsenter", "top", "htop",
		"xargs", "timeout", "unshare", "ls", "diff", "cat", "sort", "uniq", "ping", "python", "python3", "perl", "bash", "sh",
		"zsh", "dash", "busybox", "ln", "mv", "rm", "touch", "chmod", "chown", "find", "grep", "sed", "awk", "ssh-keygen",
		"crontab", "systemctl", "journalctl", "tcpdump", "ss", "netstat", "iptables", "nft", "mount", "umount", "pidof")
	redisCLI = set("redis-cli", "keydb-cli")
	openssl  = set("openssl")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// knownTool reports whether name changes how short flags are read.
func knownTool(name string) bool {
	return mysqlFamily[name] || passwordP[name] || notPasswordP[name] || redisCLI[name] || openssl[name]
}

// What the next argument is, after a flag.
const (
	pendNone     = iota
	pendSecret   // the whole argument
	pendUserPass // user:pass or user%pass: what follows the separator
	pendMaybe    // -p of an unknown tool: unless it looks like a port, pid or path
)

// flagState reads credential flags across arguments.
type flagState struct {
	tool    string
	pending int
}

// step reads one argument (not argv[0]) and returns the byte range of it to redact.
func (st *flagState) step(a string) (lo, hi int) {
	pend := st.pending
	st.pending = pendNone
	if pend != pendNone && (a == "" || a[0] != '-' || a == "-") {
		switch pend {
		case pendSecret:
			return 0, len(a)
		case pendUserPass:
			return userPass(a)
		case pendMaybe:
			if !portPidOrPath(a) {
				return 0, len(a)
			}
		}
		return 0, 0
	}
	if len(a) < 2 || a[0] != '-' {
		return 0, 0
	}
	if a[1] == '-' { // --name[=value]
		name, val, eq := strings.Cut(a[2:], "=")
		off := 2 + len(name) + 1
		switch {
		case secretFlag(name):
			if !eq {
				st.pending = pendSecret
				return 0, 0
			}
			if keyPath(name, val) {
				return 0, 0
			}
			return off, len(a)
		case userFlag(name):
			if !eq {
				st.pending = pendUserPass
				return 0, 0
			}
			l, h := userPass(val)
			if h > l {
				return off + l, off + h
			}
		}
		return 0, 0
	}
	if len(a) == 2 {
		switch a[1] {
		case 'u', 'U':
			st.pending = pendUserPass
		case 'p', 'P':
			switch {
			case passwordP[st.tool]:
				st.pending = pendSecret
			case mysqlFamily[st.tool] || notPasswordP[st.tool]:
			default:
				st.pending = pendMaybe
			}
		case 'a':
			if redisCLI[st.tool] {
				st.pending = pendSecret
			}
		case 'k':
			if openssl[st.tool] {
				st.pending = pendSecret
			}
		}
		return 0, 0
	}
	// -pSECRET of the tools that take it so; -password=x, -passin x, -Dkey.password=x.
	if a[1] == 'p' && (mysqlFamily[st.tool] || passwordP[st.tool]) {
		return 2, len(a)
	}
	if a[1] == 'a' && redisCLI[st.tool] {
		return 2, len(a)
	}
	name, val, eq := strings.Cut(a[1:], "=")
	if len(name) >= 4 && secretFlag(name) {
		if !eq {
			st.pending = pendSecret
			return 0, 0
		}
		if keyPath(name, val) {
			return 0, 0
		}
		return 1 + len(name) + 1, len(a)
	}
	return 0, 0
}

// secretWords in a long flag's name make its value secret.
var secretWords = []string{"pass", "pwd", "token", "secret", "apikey", "api-key", "api_key", "accesskey", "access-key",
	"access_key", "credential", "cookie", "auth", "privatekey", "private-key", "private_key", "signature"}

// notSecretWords in a flag's name say the value is not the secret itself (a file, a mode, an id).
var notSecretWords = []string{"bypass", "passthrough", "passive", "compass", "author", "-file", "_file", "file", "-path",
	"_path", "-stdin", "-env", "-cmd", "-command", "-prompt", "-length", "-type", "-method", "-mode", "-url", "-dir",
	"-helper", "-policy", "-ttl", "-name", "-id", "-fd", "-format", "-endpoint", "-server", "-host", "-port"}

// secretInitials are the first letters of secretWords: a name without any of them at a position
// where a word could start is not secret (one pass, no word search for most flags).
var secretInitials = func() (t [256]bool) {
	for _, w := range secretWords {
		t[w[0]] = true
		t[upper(w[0])] = true
	}
	return t
}()

func secretFlag(name string) bool {
	hit := false
	for i := 0; i < len(name) && !hit; i++ {
		if !secretInitials[name[i]] {
			continue
		}
		for _, w := range secretWords {
			if len(name)-i >= len(w) && equalFold(name[i:i+len(w)], w) {
				hit = true
				break
			}
		}
	}
	if !hit {
		return false
	}
	for _, w := range notSecretWords {
		if indexFold(name, w) >= 0 {
			return false
		}
	}
	return true
}

func userFlag(name string) bool {
	switch strings.ToLower(name) {
	case "user", "proxy-user", "http-user", "ftp-user", "username", "proxy-auth-user":
		return true
	}
	return false
}

// keyPath reports a key flag whose value is a path to the key, not the key.
func keyPath(name, val string) bool {
	return val == "" || (indexFold(name, "key") >= 0 && (val[0] == '/' || val[0] == '~' || val[0] == '.'))
}

// userPass returns the range after the first ':' (or '%') of user:pass, unless it is uid:gid or a URL.
func userPass(a string) (lo, hi int) {
	if strings.Contains(a, "://") {
		return 0, 0
	}
	i := strings.IndexAny(a, ":%")
	if i < 0 || i == len(a)-1 {
		return 0, 0
	}
	if digits(a[:i]) && digits(a[i+1:]) {
		return 0, 0
	}
	return i + 1, len(a)
}

// portPidOrPath reports values -p/-P take in tools that do not take a password with it.
func portPidOrPath(a string) bool {
	if a == "" {
		return true
	}
	switch a[0] {
	case '/', '.', '~', '$':
		return true
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !('0' <= c && c <= '9') && c != ':' && c != ',' && c != '-' && c != '.' && c != '/' {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// textFlags runs the flag state machine over the whitespace-separated (quote-aware) fields of
// text; the tool is the last known tool named since the start or the last command separator.
func textFlags(s string, e *edits) {
	var st flagState
	first := true
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			if c == '\n' {
				st = flagState{}
				first = true
			}
			i++
			continue
		}
		// one field: up to unquoted whitespace
		start := i
		var q byte
		for i < len(s) {
			c = s[i]
			if q != 0 {
				if c == q {
					q = 0
				}
			} else if c == '\'' || c == '"' {
				q = c
			} else if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			i++
		}
		field := s[start:i]
		inner, off := unquote(field)
		switch {
		case field == "|" || field == ";" || field == "&&" || field == "||" || field == "&":
			st = flagState{}
			first = true
			continue
		case first:
			first = false
			if b := baseName(inner); knownTool(b) {
				st.tool = b
			}
			continue
		}
		if b := baseName(inner); inner != "" && inner[0] != '-' && knownTool(b) && st.pending == pendNone {
			st.tool = b
			continue
		}
		if lo, hi := st.step(inner); hi > lo {
			e.add(start+off+lo, start+off+hi)
		}
		if strings.HasSuffix(field, ";") {
			st = flagState{}
			first = true
		}
	}
}

// unquote strips one pair of surrounding quotes, or a quote that opens a value after "=" is kept
// as is (--password='x y' is read as --password= and a quoted value).
func unquote(f string) (string, int) {
	if len(f) >= 2 && (f[0] == '\'' || f[0] == '"') && f[len(f)-1] == f[0] {
		return f[1 : len(f)-1], 1
	}
	return f, 0
}
