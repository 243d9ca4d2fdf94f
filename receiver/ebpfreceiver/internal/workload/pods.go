package workload

import (
	"os"
	"path/filepath"
	"strings"
)

// pod is one pod log directory of the kubelet: /var/log/pods/<namespace>_<name>_<uid>.
type pod struct {
	namespace, name, uid string
}

func (p pod) dir() string { return p.namespace + "_" + p.name + "_" + p.uid }

// maxContainerDirs bounds the container directories read from one pod directory.
const maxContainerDirs = 64

// readPods lists the pod directories under dir, at most max of them out of at most 4*max names.
func readPods(dir string, max int) (map[string]pod, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]pod{}
	for seen := 0; len(out) < max && seen < 4*max; {
		names, err := f.Readdirnames(256)
		seen += len(names)
		for _, n := range names {
			if p, ok := parsePodDir(n); ok && len(out) < max {
				out[p.uid] = p
			}
		}
		if err != nil || len(names) == 0 {
			break
		}
	}
	return out, nil
}

// parsePodDir splits <namespace>_<name>_<uid>. Namespaces are DNS labels and pod names DNS
// subdomains: neither holds an underscore, so anything else is not a pod directory.
func parsePodDir(n string) (pod, bool) {
	parts := strings.Split(n, "_")
	if len(parts) != 3 || !isDNSName(parts[0], false) || !isDNSName(parts[1], true) || !IsUUID(parts[2]) {
		return pod{}, false
	}
	return pod{namespace: parts[0], name: parts[1], uid: parts[2]}, true
}

// readContainerDirs lists the container directories of a pod (their names are the containers').
func readContainerDirs(dir string, p pod) []string {
	f, err := os.Open(filepath.Join(dir, p.dir()))
	if err != nil {
		return nil
	}
	defer f.Close()
	entries, _ := f.ReadDir(maxContainerDirs)
	var out []string
	for _, e := range entries {
		if e.IsDir() && isDNSName(e.Name(), false) {
			out = append(out, e.Name())
		}
	}
	return out
}

// isDNSName reports whether s is a DNS label (lower-case alphanumerics and '-', at most 63) or,
// with dots, a DNS subdomain (at most 253).
func isDNSName(s string, dots bool) bool {
	max := 63
	if dots {
		max = 253
	}
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case c == '.' && dots:
		default:
			return false
		}
	}
	return true
}

// IsUUID reports whether s is a UUID in its 36-character text form (a pod uid).
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// IsHex64 reports whether s is 64 hex digits (a container id).
func IsHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
