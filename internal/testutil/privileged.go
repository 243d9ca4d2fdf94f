// Package testutil holds helpers shared by the tests of several packages (privilege checks); it must
// not know any component under test.
package testutil

import (
	"os"
	"testing"
)

// RequirePrivilegedEnv is the environment variable that turns a missing
// privilege from a skip into a failure. CI sets it so that a privileged test
// that silently skips cannot pass a build.
const RequirePrivilegedEnv = "CRYPTOCHAIN_REQUIRE_PRIVILEGED"

// RequirePrivileged stops the test unless it runs as root (effective uid 0).
// It skips by default and fails when RequirePrivilegedEnv is "1".
func RequirePrivileged(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv(RequirePrivilegedEnv) == "1" {
		t.Fatalf("this test needs root (euid 0) and %s=1 forbids skipping it", RequirePrivilegedEnv)
	}
	t.Skipf("this test needs root (euid 0); set %s=1 to make this a failure", RequirePrivilegedEnv)
}
