package terminate

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	// comm may hold spaces and parentheses; the fields after the last ')' are what count.
	line := "4242 (x) (y z) S 4000 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 1000 100 18446744073709551615"
	p, err := parseStat(4242, line)
	require.NoError(t, err)
	assert.Equal(t, "x) (y z", p.Comm)
	assert.Equal(t, 4000, p.PPID)
	assert.Equal(t, 123450*time.Millisecond, p.Start)
	assert.False(t, p.Kthread)

	kthread := "17 (kworker/0:1) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 18446744073709551615"
	p, err = parseStat(17, kthread)
	require.NoError(t, err)
	assert.True(t, p.Kthread, "PF_KTHREAD and parent kthreadd")

	_, err = parseStat(1, "1 (init")
	assert.Error(t, err)
	_, err = parseStat(1, "1 (init) S 0 1")
	assert.Error(t, err)
}

func TestCgroupV2(t *testing.T) {
	assert.Equal(t, "/libpod_parent/libpod-abc", cgroupV2("4:memory:/x\n0::/libpod_parent/libpod-abc\n"))
	assert.Equal(t, "", cgroupV2("4:memory:/x\n"))
}

func TestCheck(t *testing.T) {
	p := Proc{PID: 4242, PPID: 1, Start: 10 * time.Second, Exe: "/tmp/.x/xmrig", Cgroup: "/libpod_parent/libpod-abc/sub"}
	ok := Target{PID: 4242, StartedBy: 10*time.Second + time.Second, Exe: "/tmp/.x/xmrig", Cgroup: "/libpod_parent/libpod-abc", ContainerID: "abc"}
	assert.NoError(t, check(ok, p))

	for name, tc := range map[string]struct {
		t Target
		p Proc
	}{
		"started after its evidence (pid reused)": {Target{StartedBy: 9 * time.Second}, p},
		"no identity to check":                    {Target{}, p},
		"exact start differs":                     {Target{Start: 11 * time.Second}, p},
		"other executable":                        {Target{StartedBy: 11 * time.Second, Exe: "/usr/bin/sleep"}, p},
		"outside the cgroup":                      {Target{StartedBy: 11 * time.Second, Cgroup: "/libpod_parent/libpod-abcd"}, p},
		"not in the container":                    {Target{StartedBy: 11 * time.Second, ContainerID: "def"}, p},
		"init":                                    {Target{StartedBy: 11 * time.Second}, Proc{PID: 1}},
		"kernel thread":                           {Target{StartedBy: 11 * time.Second}, Proc{PID: 17, Kthread: true}},
		"the caller":                              {Target{StartedBy: 11 * time.Second}, Proc{PID: os.Getpid()}},
	} {
		err := check(tc.t, tc.p)
		var r *Refusal
		assert.ErrorAs(t, err, &r, name)
	}
	// A 10 ms start-time tick within the slack is the same process.
	assert.NoError(t, check(Target{Start: 10*time.Second + 10*time.Millisecond}, p))
}
