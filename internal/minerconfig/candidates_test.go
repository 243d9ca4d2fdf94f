package minerconfig

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCandidates(t *testing.T) {
	assert.Equal(t, []string{"/tmp/.x/my.json", "/tmp/.x/config.json", "/root/.xmrig.json", "/root/.config/xmrig.json"},
		Candidates("/tmp/.x/kworkerds", "/tmp/.x", "/root", []string{"kworkerds", "-c", "my.json"}))
	assert.Equal(t, []string{"/etc/m.json", "/work/config.json"},
		Candidates("/memfd:x", "/work", "", []string{"x", "--config=/etc/m.json"}))
	assert.Equal(t, []string{"/opt/x/config.json"}, Candidates("/opt/x/run", "", "", []string{"run", "-c", "rel.json"}),
		"a relative path without a cwd is skipped")
	assert.Equal(t, "a.json", ConfigFlag([]string{"x", "-ca.json"}))
	assert.Equal(t, "", ConfigFlag([]string{"x", "--cpu-priority", "5"}))
	assert.Equal(t, "", ConfigFlag([]string{"x", "-c"}))
}
