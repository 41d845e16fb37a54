package nat

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nsvirt/nsvirt/netns/internal/nstest"
)

// fakeProcSys builds a /proc/sys with the two forwarding sysctls set to
// v4 and v6 ("" leaves a file out).
func fakeProcSys(t testing.TB, v4, v6 string) string {
	t.Helper()
	root := t.TempDir()
	for key, v := range map[string]string{IPv4Forward: v4, IPv6Forward: v6} {
		if v == "" {
			continue
		}
		p := filepath.Join(root, key)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func sysctlValue(t testing.TB, root, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, key))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestSysctlsRefCount(t *testing.T) {
	root, state := fakeProcSys(t, "0", "0"), t.TempDir()
	s := NewSysctls(root, state)
	if err := s.Acquire("a", IPv4Forward); err != nil {
		t.Fatal(err)
	}
	if err := s.Acquire("b", IPv4Forward, IPv6Forward); err != nil {
		t.Fatal(err)
	}
	if err := s.Acquire("a", IPv4Forward); err != nil {
		t.Fatal(err)
	}
	if v4, v6 := sysctlValue(t, root, IPv4Forward), sysctlValue(t, root, IPv6Forward); v4 != "1" || v6 != "1" {
		t.Fatalf("after Acquire: v4=%s v6=%s, want 1 1", v4, v6)
	}
	if h, _ := s.Holders(); !reflect.DeepEqual(h, []string{"a", "b"}) {
		t.Errorf("Holders = %q", h)
	}
	if err := s.Release("b"); err != nil {
		t.Fatal(err)
	}
	if v4, v6 := sysctlValue(t, root, IPv4Forward), sysctlValue(t, root, IPv6Forward); v4 != "1" || v6 != "0" {
		t.Fatalf("after Release(b): v4=%s v6=%s, want 1 0", v4, v6)
	}
	if err := s.Release("a"); err != nil {
		t.Fatal(err)
	}
	if v := sysctlValue(t, root, IPv4Forward); v != "0" {
		t.Fatalf("after Release(a): v4=%s, want 0", v)
	}
	if _, err := os.Stat(filepath.Join(state, stateFileName)); err == nil {
		t.Error("state file left after the last Release")
	}
	if err := s.Release("never"); err != nil {
		t.Errorf("Release of a non-holder: %v", err)
	}
}

func TestSysctlsKeepsOriginalOne(t *testing.T) {
	root := fakeProcSys(t, "1", "")
	s := NewSysctls(root, t.TempDir())
	if err := s.Acquire("a", IPv4Forward); err != nil {
		t.Fatal(err)
	}
	if err := s.Release("a"); err != nil {
		t.Fatal(err)
	}
	if v := sysctlValue(t, root, IPv4Forward); v != "1" {
		t.Errorf("forwarding that was on before is now %s", v)
	}
}

// A restarted daemon gets a new Sysctls on the same state directory and
// still restores the value found before the crash.
func TestSysctlsSurviveRestart(t *testing.T) {
	root, state := fakeProcSys(t, "0", "0"), t.TempDir()
	if err := NewSysctls(root, state).Acquire("net1", IPv4Forward); err != nil {
		t.Fatal(err)
	}
	s := NewSysctls(root, state)
	h, err := s.Holders()
	if err != nil || !reflect.DeepEqual(h, []string{"net1"}) {
		t.Fatalf("Holders after restart = %q, %v", h, err)
	}
	if err := s.Acquire("net2", IPv4Forward); err != nil {
		t.Fatal(err)
	}
	for _, name := range h {
		if err := s.Release(name); err != nil {
			t.Fatal(err)
		}
	}
	if v := sysctlValue(t, root, IPv4Forward); v != "1" {
		t.Fatalf("forwarding off while net2 holds it: %s", v)
	}
	if err := s.Release("net2"); err != nil {
		t.Fatal(err)
	}
	if v := sysctlValue(t, root, IPv4Forward); v != "0" {
		t.Errorf("forwarding after the last release = %s, want the original 0", v)
	}
}

// Acquiring a sysctl that does not exist (IPv6 disabled) fails, is
// undone, and leaves the other holders' state alone.
func TestSysctlsMissingKey(t *testing.T) {
	root, state := fakeProcSys(t, "0", ""), t.TempDir()
	s := NewSysctls(root, state)
	if err := s.Acquire("a", IPv4Forward); err != nil {
		t.Fatal(err)
	}
	err := s.Acquire("b", IPv4Forward, IPv6Forward)
	if err == nil || !strings.Contains(err.Error(), `network "b"`) {
		t.Fatalf("Acquire of a missing sysctl = %v", err)
	}
	if h, _ := s.Holders(); !reflect.DeepEqual(h, []string{"a"}) {
		t.Errorf("Holders after a failed Acquire = %q, want [a]", h)
	}
	if _, err := os.Stat(filepath.Join(root, IPv6Forward)); err == nil {
		t.Error("Acquire created a sysctl file")
	}
	if err := s.Release("a"); err != nil {
		t.Fatal(err)
	}
	if v := sysctlValue(t, root, IPv4Forward); v != "0" {
		t.Errorf("v4 = %s, want 0", v)
	}
}

func TestSysctlsBadKey(t *testing.T) {
	s := NewSysctls(fakeProcSys(t, "0", "0"), t.TempDir())
	for _, k := range []string{"../etc/passwd", "/net/ipv4/ip_forward", "."} {
		if err := s.Acquire("a", k); err == nil {
			t.Errorf("Acquire(%q) succeeded", k)
		}
	}
}

func TestSysctlsCorruptState(t *testing.T) {
	state := t.TempDir()
	if err := os.WriteFile(filepath.Join(state, stateFileName), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewSysctls(fakeProcSys(t, "0", "0"), state)
	if err := s.Acquire("a", IPv4Forward); err == nil {
		t.Error("Acquire with a corrupt state file succeeded")
	}
}

func TestForwardSysctls(t *testing.T) {
	tests := []struct {
		n    Network
		want []string
	}{
		{Network{Mode: NAT, Subnets: prefixes("10.0.0.0/24")}, []string{IPv4Forward}},
		{Network{Mode: Route, Subnets: prefixes("10.0.0.0/24", "fd00::/64")}, []string{IPv4Forward, IPv6Forward}},
		{Network{Mode: Open, Subnets: prefixes("fd00::/64")}, []string{IPv6Forward}},
		{Network{Mode: Isolated, Subnets: prefixes("10.0.0.0/24")}, nil},
		{Network{Mode: NAT}, nil},
	}
	for _, tc := range tests {
		if got := ForwardSysctls(tc.n); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ForwardSysctls(%v %v) = %q, want %q", tc.n.Mode, tc.n.Subnets, got, tc.want)
		}
	}
}

// TestHostForwardingKeys checks that the root tests' check of the host's
// forwarding sysctls (nstest.HostForwarding) reads the ones nat sets.
func TestHostForwardingKeys(t *testing.T) {
	if nstest.IPv4Forward != IPv4Forward || nstest.IPv6Forward != IPv6Forward {
		t.Errorf("nstest reads %q and %q, nat sets %q and %q",
			nstest.IPv4Forward, nstest.IPv6Forward, IPv4Forward, IPv6Forward)
	}
}
