package dnsmasq

// Root-test scaffolding: each root test re-runs itself inside a new network
// namespace ("unshare --net"), so nft tables, sysctls under /proc/sys/net,
// bridges and routes are the namespace's own and vanish with it. Peer
// namespaces for clients are held by "unshare --net sleep" processes.
// The same helpers live in netns/nat; test code cannot be shared
// between the two packages without a new exported package.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// innerEnv names the test that runs inside a throwaway namespace.
	innerEnv = "NSVIRT_TEST_IN_NETNS"
	// parentNetnsEnv holds the outer network namespace's inode, so the
	// inner test can refuse to run if unshare did not give it a new one.
	parentNetnsEnv = "NSVIRT_TEST_PARENT_NETNS"
)

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root: it creates network namespaces and bridges and runs dnsmasq")
	}
}

// requireTool returns the path of a program the test needs.
func requireTool(t testing.TB, name string, alternatives ...string) string {
	t.Helper()
	for _, n := range append([]string{name}, alternatives...) {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	skipOrFail(t, "needs %s, which is not installed", name)
	return ""
}

func netnsInode(t testing.TB, pid string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+pid+"/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(st.Ino)
}

// hostForwarding reads the host's forwarding sysctls, which no test may
// change.
func hostForwarding() string {
	var vals []string
	for _, k := range []string{"net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"} {
		b, _ := os.ReadFile("/proc/sys/" + k)
		vals = append(vals, strings.TrimSpace(string(b)))
	}
	return strings.Join(vals, " ")
}

// inThrowawayNetns reports true when the calling test already runs in its
// own network namespace. Otherwise it runs the test again, alone, in a new
// one, reports its outcome, and returns false: the caller returns at once.
func inThrowawayNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(innerEnv) == t.Name() {
		if netnsInode(t, "self") == os.Getenv(parentNetnsEnv) {
			t.Fatal("unshare --net left the test in the host's network namespace; refusing to go on")
		}
		return true
	}
	requireRoot(t)
	unshare := requireTool(t, "unshare")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	before := hostForwarding()
	cmd := exec.Command(unshare, "--net", "--", self, "-test.run=^"+regexp.QuoteMeta(t.Name())+"$",
		"-test.v", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), innerEnv+"="+t.Name(), parentNetnsEnv+"="+netnsInode(t, "self"))
	out, err := cmd.CombinedOutput()
	t.Logf("in a new network namespace:\n%s", out)
	if after := hostForwarding(); after != before {
		t.Errorf("the host's forwarding sysctls changed from %q to %q", before, after)
	}
	if err != nil {
		t.Fatalf("test in a new network namespace: %v", err)
	}
	if bytes.Contains(out, []byte("--- SKIP: "+t.Name())) {
		t.Skip("skipped in the new network namespace (see the log above)")
	}
	return false
}

// randHex returns n random hex digits.
func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// randByte returns a random number in [2, 254), for test subnets.
func randByte() int {
	b := make([]byte, 1)
	rand.Read(b)
	return 2 + int(b[0])%252
}

// sh runs a command and fails the test if it fails.
func sh(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// peerNetns is a network namespace held open by a sleeping process.
type peerNetns struct {
	pid string
}

// newPeerNetns starts a process in a new network namespace and kills it
// when the test ends, which frees the namespace and the links in it.
func newPeerNetns(t *testing.T) *peerNetns {
	t.Helper()
	self := netnsInode(t, "self")
	cmd := exec.Command(requireTool(t, "unshare"), "--net", "--", "sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	p := &peerNetns{pid: fmt.Sprint(cmd.Process.Pid)}
	for deadline := time.Now().Add(5 * time.Second); netnsInode(t, p.pid) == self; {
		if time.Now().After(deadline) {
			t.Fatal("peer process did not enter a new network namespace")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p
}

// run runs a command inside the peer namespace.
func (p *peerNetns) run(args ...string) (string, error) {
	out, err := exec.Command("nsenter", append([]string{"-t", p.pid, "-n", "--"}, args...)...).CombinedOutput()
	return string(out), err
}

// must runs a command inside the peer namespace and fails the test if it
// fails.
func (p *peerNetns) must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := p.run(args...)
	if err != nil {
		t.Fatalf("in peer namespace: %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

// addVeth creates a veth pair, leaves host in this namespace and moves
// the other end into p, named guest there, with hardware address mac and,
// unless addr is empty, address addr (CIDR), and up.
func (p *peerNetns) addVeth(t testing.TB, host, guest, mac, addr string) {
	t.Helper()
	tmp := "nsvt-p" + randHex(6)
	sh(t, "ip", "link", "add", host, "type", "veth", "peer", "name", tmp, "address", mac)
	sh(t, "ip", "link", "set", tmp, "netns", p.pid)
	p.must(t, "ip", "link", "set", tmp, "name", guest)
	if addr != "" {
		p.must(t, "ip", "addr", "add", addr, "dev", guest)
	}
	p.must(t, "ip", "link", "set", guest, "up")
	p.must(t, "ip", "link", "set", "lo", "up")
	sh(t, "ip", "link", "set", host, "up")
}
