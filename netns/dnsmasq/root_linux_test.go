package dnsmasq

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nsvirt/nsvirt/netns/internal/nstest"
)

// needsRoot says why the root tests, each in a throwaway network namespace
// (see nstest.InThrowawayNetns), need root.
const needsRoot = "it creates network namespaces and bridges and runs dnsmasq"

// leaseLab is the test's namespace with a bridge and a dnsmasq on it, and
// a client namespace with two interfaces on the bridge.
type leaseLab struct {
	busybox, dir, script string
	cfg                  Config
	client               *nstest.Peer
	net                  int // third octet of 10.213.N.0/24
}

func newLeaseLab(t *testing.T) *leaseLab {
	t.Helper()
	nstest.RequireTool(t, "nsenter")
	if _, err := binary(); err != nil {
		nstest.SkipOrFail(t, "needs dnsmasq: %v", err)
	}
	l := &leaseLab{busybox: nstest.RequireTool(t, "busybox"), net: nstest.RandByte()}
	id := nstest.RandHex(4)
	br := "nsvt-br" + id
	nstest.Sh(t, "ip", "link", "set", "lo", "up")
	nstest.Sh(t, "ip", "link", "add", br, "type", "bridge")
	nstest.Sh(t, "ip", "addr", "add", l.ip(1)+"/24", "dev", br)
	nstest.Sh(t, "ip", "link", "set", br, "up")
	l.dir = dnsmasqDir(t)
	l.cfg = Config{
		Name: "lease test", Bridge: br, Domain: "nsvt.test", DNS: true, NoUpstream: true,
		Ranges:  []Range{{Start: addr(l.ip(100)), End: addr(l.ip(150)), Prefix: 24, Lease: time.Hour}},
		Hosts:   []Host{{MAC: mustMAC("52:54:00:13:00:20"), IP: addr(l.ip(20)), Name: "fixed"}},
		LogFile: filepath.Join(l.dir, "dnsmasq.log"),
	}
	l.client = nstest.NewPeer(t)
	for i, mac := range []string{"52:54:00:13:00:20", "52:54:00:13:00:99"} {
		port := fmt.Sprintf("nsvt-v%d%s", i, id)
		l.client.AddVeth(t, port, fmt.Sprintf("eth%d", i), mac, "")
		nstest.Sh(t, "ip", "link", "set", port, "master", br)
	}
	l.script = filepath.Join(l.dir, "udhcpc.sh")
	if err := os.WriteFile(l.script, []byte("#!/bin/sh\necho \"udhcpc $1 ip=$ip\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

// dnsmasqDir is a directory dnsmasq can read after dropping to nobody
// (t.TempDir's parent is private to root).
func dnsmasqDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nsvt-dnsmasq-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (l *leaseLab) ip(host int) string { return fmt.Sprintf("10.213.%d.%d", l.net, host) }

// dhcp runs udhcpc on the client's interface and returns the address it
// was offered.
func (l *leaseLab) dhcp(t *testing.T, iface, hostname string) string {
	t.Helper()
	out := l.client.Must(t, l.busybox, "udhcpc", "-i", iface, "-f", "-q", "-n", "-t", "10", "-T", "1",
		"-s", l.script, "-x", "hostname:"+hostname)
	for _, line := range strings.Split(out, "\n") {
		if ip, ok := strings.CutPrefix(line, "udhcpc bound ip="); ok {
			return ip
		}
	}
	t.Fatalf("udhcpc on %s got no lease:\n%s", iface, out)
	return ""
}

// lookup asks the network's dnsmasq for name from the client.
func (l *leaseLab) lookup(name string) string {
	out, _ := l.client.Run(l.busybox, "nslookup", name, l.ip(1))
	return out
}

func TestRootLeases(t *testing.T) {
	if !nstest.InThrowawayNetns(t, needsRoot) {
		return
	}
	l := newLeaseLab(t)
	p, err := Start(l.cfg, l.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Stop(l.dir) })
	if !Running(l.dir) || !isOurs(p.Pid, l.dir) {
		t.Fatalf("dnsmasq pid %d not running after Start", p.Pid)
	}
	if _, err := Start(l.cfg, l.dir); !errors.Is(err, ErrRunning) {
		t.Errorf("second Start = %v, want ErrRunning", err)
	}

	if ip := l.dhcp(t, "eth0", "client0"); ip != l.ip(20) {
		t.Errorf("static host got %s, want %s", ip, l.ip(20))
	}
	dyn := l.dhcp(t, "eth1", "dyn1")
	checkLeases(t, p.Config, l.ip(20), "fixed", dyn, "dyn1")

	l.client.Must(t, "ip", "addr", "add", l.ip(20)+"/24", "dev", "eth0")
	if out := l.lookup("dyn1.nsvt.test"); !strings.Contains(out, dyn) {
		t.Errorf("DNS does not resolve the leased name dyn1.nsvt.test to %s:\n%s", dyn, out)
	}
	l.checkReload(t, p.Pid)

	// A restarted dnsmasq keeps the lease file.
	if err := Stop(l.dir); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(l.cfg, l.dir); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	checkLeases(t, p.Config, l.ip(20), "fixed", dyn, "dyn1")
	l.checkStop(t)
}

// checkLeases reads the lease file and checks the two clients' leases.
func checkLeases(t *testing.T, c Config, staticIP, staticName, dynIP, dynName string) {
	t.Helper()
	leases, err := Leases(c.LeaseFile, c.AllSubnets()...)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(c.LeaseFile)
	t.Logf("lease file:\n%s", b)
	want := map[string]string{"52:54:00:13:00:20": staticIP + " " + staticName, "52:54:00:13:00:99": dynIP + " " + dynName}
	for mac, w := range want {
		got := ForMAC(leases, mustMAC(mac), time.Now())
		if len(got) != 1 || got[0].IP.String()+" "+got[0].Hostname != w || got[0].Prefix != 24 ||
			time.Until(got[0].Expiry) < 50*time.Minute {
			t.Errorf("leases of %s = %+v, want %s/24 expiring in about an hour", mac, got, w)
		}
	}
}

// checkReload adds a DNS name with UpdateHosts and resolves it through the
// same dnsmasq process.
func (l *leaseLab) checkReload(t *testing.T, pid int) {
	t.Helper()
	c := l.cfg
	c.DNSHosts = []DNSHost{{IP: addr(l.ip(200)), Names: []string{"added"}}}
	if out := l.lookup("added.nsvt.test"); strings.Contains(out, l.ip(200)) {
		t.Fatalf("added.nsvt.test resolves before UpdateHosts:\n%s", out)
	}
	if err := UpdateHosts(c, l.dir); err != nil {
		t.Fatal(err)
	}
	var out string
	for range 20 {
		if out = l.lookup("added.nsvt.test"); strings.Contains(out, l.ip(200)) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out, l.ip(200)) {
		t.Errorf("added.nsvt.test does not resolve after UpdateHosts:\n%s", out)
	}
	if now, err := find(l.dir); err != nil || now != pid {
		t.Errorf("dnsmasq after reload: pid %d, %v; want the same pid %d", now, err, pid)
	}
}

// checkStop stops dnsmasq and checks nothing is left.
func (l *leaseLab) checkStop(t *testing.T) {
	t.Helper()
	if err := Stop(l.dir); err != nil {
		t.Fatal(err)
	}
	if Running(l.dir) {
		t.Error("Running after Stop")
	}
	if pids := processesWith(confArg(l.dir)); len(pids) > 0 {
		t.Errorf("dnsmasq processes left after Stop: %v", pids)
	}
	if _, err := os.Stat(filepath.Join(l.dir, PidName)); err == nil {
		t.Error("pid file left after Stop")
	}
	if err := Stop(l.dir); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// processesWith lists the live processes with arg on their command line.
func processesWith(arg string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains("\x00"+string(b), "\x00"+arg+"\x00") {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// TestRootStartFailure checks that dnsmasq's own complaint reaches the
// caller: a lease file it cannot create. (A missing bridge is no failure:
// bind-dynamic waits for it, as libvirt wants.)
func TestRootStartFailure(t *testing.T) {
	if !nstest.InThrowawayNetns(t, needsRoot) {
		return
	}
	if _, err := binary(); err != nil {
		nstest.SkipOrFail(t, "needs dnsmasq: %v", err)
	}
	dir := dnsmasqDir(t)
	c := Config{Name: "bad", Bridge: "nsvt-no" + nstest.RandHex(4), DNS: true,
		LeaseFile: filepath.Join(dir, "missing", "leases"),
		Ranges:    []Range{{Start: addr("10.213.250.2"), End: addr("10.213.250.9"), Prefix: 24}}}
	_, err := Start(c, dir)
	t.Cleanup(func() { Stop(dir) })
	if err == nil || !strings.Contains(err.Error(), "lease file") || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("Start with an impossible lease file = %v, want dnsmasq's error naming the network", err)
	}
	t.Logf("Start: %v", err)
	if Running(dir) {
		t.Error("Running after a failed Start")
	}
}
