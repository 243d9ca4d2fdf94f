package redact

import "testing"

// BenchmarkExecRecord is the redaction of the pipeline benchmark's exec: argv without candidate
// flags and a usual environment.
func BenchmarkExecRecord(b *testing.B) {
	r := Default()
	argv := []string{"ls", "-la", "--color=auto", "/home/user/projects"}
	env := [][2]string{{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"HOME", "/home/user"}, {"LANG", "C.UTF-8"}, {"GITHUB_TOKEN", "x"}}
	args := make([]string, len(argv))
	b.ReportAllocs()
	for b.Loop() {
		copy(args, argv)
		r.Args(args)
		for _, e := range env {
			_ = r.Env(e[0], e[1])
		}
	}
}

// BenchmarkMinerArgv is an argv with candidate flags and a URL.
func BenchmarkMinerArgv(b *testing.B) {
	r := Default()
	argv := []string{"/tmp/.x/xmrig", "-o", "stratum+tcp://pool.example.net:3333", "-u", "4Af76yNqbtBeBiorVRyP2jaZSKvN95be1QUwTjeNbXJcBn9etYkQVrA3TVQkWeqXam4TvaHm4RaByhDxotGty4uJ5sa88cY", "-p", "x", "--donate-level=1"}
	args := make([]string, len(argv))
	b.ReportAllocs()
	for b.Loop() {
		copy(args, argv)
		r.Args(args)
	}
}
