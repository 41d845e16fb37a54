package nstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// StrictEnv names the variable that, set to 1, turns every skip for a
// missing requirement into a failure.
const StrictEnv = "NSVIRT_TEST_STRICT"

// Forwarding sysctls of the host, as paths below /proc/sys, which no test
// may change. They are netns/nat's IPv4Forward and IPv6Forward, spelled
// again because nat's own tests import this package.
const (
	IPv4Forward = "net/ipv4/ip_forward"
	IPv6Forward = "net/ipv6/conf/all/forwarding"
)

// Strict reports whether NSVIRT_TEST_STRICT=1 forbids skipping.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// SkipOrFail skips the test with the formatted message, or fails it under
// NSVIRT_TEST_STRICT=1.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("%s, and NSVIRT_TEST_STRICT=1 forbids skipping", msg)
	}
	t.Skip(msg)
}

// RequireRoot skips the test with "needs root: why" unless it runs as
// root (or fails it, see SkipOrFail).
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "needs root: %s", why)
	}
}

// RequireTool returns the path of the program name, or else of the first
// of alternatives installed; if none is, it skips the test (or fails it,
// see SkipOrFail).
func RequireTool(t testing.TB, name string, alternatives ...string) string {
	t.Helper()
	for _, n := range append([]string{name}, alternatives...) {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	SkipOrFail(t, "needs %s, which is not installed", name)
	return ""
}

// HostForwarding reads the forwarding sysctls IPv4Forward and IPv6Forward
// of the caller's network namespace, as one string to compare.
func HostForwarding() string {
	var vals []string
	for _, k := range []string{IPv4Forward, IPv6Forward} {
		b, _ := os.ReadFile("/proc/sys/" + k)
		vals = append(vals, strings.TrimSpace(string(b)))
	}
	return strings.Join(vals, " ")
}

// RandHex returns n random hex digits, for names of test links.
func RandHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// RandByte returns a random number in [2, 254), for test subnets.
func RandByte() int {
	b := make([]byte, 1)
	rand.Read(b)
	return 2 + int(b[0])%252
}

// Sh runs a command, fails the test if it fails, and returns its combined
// output.
func Sh(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
