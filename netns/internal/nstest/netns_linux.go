package nstest

import (
	"bytes"
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

// NetnsInode returns the inode of the network namespace of process pid
// ("self" for the caller), which tells namespaces apart.
func NetnsInode(t testing.TB, pid string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+pid+"/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(st.Ino)
}

// InThrowawayNetns reports true when the calling test already runs in its
// own network namespace; it fails the test if that namespace is the one
// it was started from. Otherwise it needs root (why says for what, see
// RequireRoot) and unshare, runs the test again, alone, in a new network
// namespace, reports its outcome, checks that the host's forwarding
// sysctls did not change, and returns false: the caller returns at once.
//
//	if !nstest.InThrowawayNetns(t, "it creates bridges") {
//		return
//	}
//
// It takes a *testing.T, not a testing.TB: it re-runs the test by name
// with -test.run, which selects no benchmark.
func InThrowawayNetns(t *testing.T, why string) bool {
	t.Helper()
	if os.Getenv(innerEnv) == t.Name() {
		if NetnsInode(t, "self") == os.Getenv(parentNetnsEnv) {
			t.Fatal("unshare --net left the test in the host's network namespace; refusing to go on")
		}
		return true
	}
	RequireRoot(t, why)
	unshare := RequireTool(t, "unshare")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unlock := lockHostForwarding(t)
	defer unlock()
	before := HostForwarding()
	cmd := exec.Command(unshare, "--net", "--", self, "-test.run=^"+regexp.QuoteMeta(t.Name())+"$",
		"-test.v", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), innerEnv+"="+t.Name(), parentNetnsEnv+"="+NetnsInode(t, "self"))
	out, err := cmd.CombinedOutput()
	t.Logf("in a new network namespace:\n%s", out)
	if after := HostForwarding(); after != before {
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

// HostForwardingLock is a lock file shared by every test package that
// touches or checks the host's forwarding sysctls: InThrowawayNetns holds
// it exclusively around its check, and cmd/nsvirtd's end-to-end tests,
// whose daemons start forwarding networks on the host, hold it shared
// for their whole run (go test runs packages side by side).
const HostForwardingLock = "/run/lock/nsvirt-tests-host-forwarding"

// lockHostForwarding takes HostForwardingLock exclusively, waiting for
// other test packages, and returns its release.
func lockHostForwarding(t testing.TB) func() {
	t.Helper()
	os.MkdirAll("/run/lock", 0o755)
	f, err := os.OpenFile(HostForwardingLock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("open the host forwarding test lock: %v", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lock %s: %v", HostForwardingLock, err)
	}
	return func() { f.Close() }
}

// Peer is a network namespace held open by a sleeping process.
type Peer struct {
	pid string
}

// NewPeer starts a process in a new network namespace and kills it when
// the test ends, which frees the namespace and the links in it.
func NewPeer(t testing.TB) *Peer {
	t.Helper()
	self := NetnsInode(t, "self")
	cmd := exec.Command(RequireTool(t, "unshare"), "--net", "--", "sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	p := &Peer{pid: fmt.Sprint(cmd.Process.Pid)}
	for deadline := time.Now().Add(5 * time.Second); NetnsInode(t, p.pid) == self; {
		if time.Now().After(deadline) {
			t.Fatal("peer process did not enter a new network namespace")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p
}

// Run runs a command inside the peer namespace (with nsenter) and returns
// its combined output.
func (p *Peer) Run(args ...string) (string, error) {
	out, err := exec.Command("nsenter", append([]string{"-t", p.pid, "-n", "--"}, args...)...).CombinedOutput()
	return string(out), err
}

// Must runs a command inside the peer namespace, fails the test if it
// fails, and returns its combined output.
func (p *Peer) Must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := p.Run(args...)
	if err != nil {
		t.Fatalf("in peer namespace: %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

// AddVeth creates a veth pair, leaves the end host in the caller's
// namespace and moves the other end into p, named guest there, and sets
// both up (and p's loopback). The guest end gets hardware address mac
// unless mac is empty (then the kernel picks one) and address addr (CIDR)
// unless addr is empty.
func (p *Peer) AddVeth(t testing.TB, host, guest, mac, addr string) {
	t.Helper()
	tmp := "nsvt-p" + RandHex(6)
	add := []string{"link", "add", host, "type", "veth", "peer", "name", tmp}
	if mac != "" {
		add = append(add, "address", mac)
	}
	Sh(t, "ip", add...)
	Sh(t, "ip", "link", "set", tmp, "netns", p.pid)
	p.Must(t, "ip", "link", "set", tmp, "name", guest)
	if addr != "" {
		p.Must(t, "ip", "addr", "add", addr, "dev", guest)
	}
	p.Must(t, "ip", "link", "set", guest, "up")
	p.Must(t, "ip", "link", "set", "lo", "up")
	Sh(t, "ip", "link", "set", host, "up")
}
