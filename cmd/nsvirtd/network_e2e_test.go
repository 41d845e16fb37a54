package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Virtual network tests with the real clients. Each network has a random
// name (its nftables table, "inet nsvirt-NAME", is shared by the whole
// host), a random bridge nsvtbrXXXXXX and a free 10.213.X.0/24 subnet.
// Nothing is sent anywhere; the only host state touched is what the test
// creates, and every test checks at the end that none of it is left and
// that net.ipv4.ip_forward is back to the value it found.

// testNet is a NAT network of one test.
type testNet struct {
	t        *testing.T
	d        *daemon
	name     string
	bridge   string
	net      string // "10.213.X"
	forward0 string // net.ipv4.ip_forward before the test
	pids     []int  // dnsmasq processes seen
}

// newTestNet picks a name, bridge and subnet, and registers the clean-up
// that destroys the network, removes by hand whatever the daemon failed to
// remove (reporting it), and checks that nothing is left.
func newTestNet(t *testing.T, d *daemon) *testNet {
	t.Helper()
	requireRoot(t)
	requireTool(t, "virsh", "libvirt-clients")
	requireTool(t, "nft", "nftables")
	requireTool(t, "dnsmasq", "dnsmasq-base")
	suffix := randHex(6)
	n := &testNet{t: t, d: d, name: "nsvt" + suffix, bridge: "nsvtbr" + suffix, net: testSubnet(t), forward0: ipForward(t)}
	t.Cleanup(n.cleanup)
	return n
}

// xml is the network's definition: NAT, DHCP from .100 to .200.
func (n *testNet) xml() string {
	return "<network>\n  <name>" + n.name + "</name>\n  <forward mode='nat'/>\n  <bridge name='" + n.bridge + "'/>\n" +
		"  <ip address='" + n.net + ".1' prefix='24'>\n    <dhcp>\n      <range start='" + n.net + ".100' end='" + n.net + ".200'/>\n" +
		"    </dhcp>\n  </ip>\n</network>\n"
}

func (n *testNet) file() string { return writeFile(n.t, n.d.dir, n.name+".xml", n.xml()) }

func (n *testNet) dnsmasqDir() string {
	return filepath.Join(n.d.stateDir, "network", "dnsmasq", n.name)
}

func (n *testNet) confArg() string {
	return "--conf-file=" + filepath.Join(n.dnsmasqDir(), "dnsmasq.conf")
}

// dnsmasqPid returns the pid in the network's dnsmasq pid file, checked
// against the process's command line, and remembers it for the clean-up.
func (n *testNet) dnsmasqPid() int {
	n.t.Helper()
	b, err := os.ReadFile(filepath.Join(n.dnsmasqDir(), "dnsmasq.pid"))
	if err != nil {
		n.t.Fatalf("no dnsmasq pid file: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if !n.dnsmasqAlive(pid) {
		n.t.Fatalf("pid %d of the pid file is not this network's dnsmasq", pid)
	}
	n.pids = append(n.pids, pid)
	return pid
}

// dnsmasqAlive reports whether pid runs dnsmasq on this network's
// configuration (a zombie has no command line).
func (n *testNet) dnsmasqAlive(pid int) bool {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	args := strings.Split(string(b), "\x00")
	return len(args) > 1 && filepath.Base(args[0]) == "dnsmasq" && strings.Contains(string(b), n.confArg())
}

func (n *testNet) tableExists() bool {
	return exec.Command("nft", "list", "table", "inet", "nsvirt-"+n.name).Run() == nil
}

// leftovers lists what of the network exists on the host.
func (n *testNet) leftovers() []string {
	var out []string
	if !linkGone(n.bridge) {
		out = append(out, "bridge "+n.bridge)
	}
	if n.tableExists() {
		out = append(out, "nft table inet nsvirt-"+n.name)
	}
	for _, pid := range n.pids {
		if n.dnsmasqAlive(pid) {
			out = append(out, "dnsmasq "+strconv.Itoa(pid))
		}
	}
	if _, err := os.Stat(filepath.Join(n.d.stateDir, "network", n.name+".xml")); err == nil {
		out = append(out, "status file")
	}
	return out
}

// expectGone fails the test if anything of the network is left, or
// ip_forward was not restored.
func (n *testNet) expectGone() {
	n.t.Helper()
	if left := n.leftovers(); len(left) > 0 {
		n.t.Errorf("network %s left: %v", n.name, left)
	}
	if fwd := ipForward(n.t); fwd != n.forward0 {
		n.t.Errorf("net.ipv4.ip_forward is %s, was %s before the test", fwd, n.forward0)
	}
}

func (n *testNet) cleanup() {
	n.d.virshResult("net-destroy", n.name)
	if b, err := os.ReadFile(filepath.Join(n.dnsmasqDir(), "dnsmasq.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			n.pids = append(n.pids, pid)
		}
	}
	left := n.leftovers()
	if len(left) == 0 && ipForward(n.t) == n.forward0 {
		return
	}
	n.t.Errorf("after net-destroy, network %s left %v (ip_forward %s, was %s); removing them", n.name, left, ipForward(n.t), n.forward0)
	exec.Command("ip", "link", "del", n.bridge).Run()
	exec.Command("nft", "delete", "table", "inet", "nsvirt-"+n.name).Run()
	for _, pid := range n.pids {
		if n.dnsmasqAlive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte(n.forward0), 0o644)
	n.expectGone()
}

func ipForward(t testing.TB) string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestNetworkVirsh walks a NAT network through virsh: define, start,
// queries, autostart, leases, destroy (everything it made goes), undefine,
// and a transient run with net-create.
func TestNetworkVirsh(t *testing.T) {
	d := startDaemon(t)
	n := newTestNet(t, d)
	if !regexp.MustCompile(`(?m)^ default\s+inactive\s+no\s+yes$`).MatchString(d.virsh("net-list", "--all")) {
		t.Errorf("net-list --all lacks the inactive default network:\n%s", d.virsh("net-list", "--all"))
	}
	wantContains(t, d.virsh("net-define", n.file()), "Network "+n.name+" defined")
	wantContains(t, d.virsh("net-start", n.name), "Network "+n.name+" started")
	wantContains(t, d.virsh("net-info", n.name), "Name:           "+n.name, "Active:         yes",
		"Persistent:     yes", "Autostart:      no", "Bridge:         "+n.bridge)
	live := d.virsh("net-dumpxml", n.name)
	wantContains(t, live, "<network>\n", "<forward mode='nat'>", "<port start='1024' end='65535'/>",
		"<bridge name='"+n.bridge+"' stp='on' delay='0'/>", "<mac address='52:54:00:", "<ip address='"+n.net+".1' prefix='24'>")
	if inactive := d.virsh("net-dumpxml", "--inactive", n.name); strings.Contains(inactive, "<port") || strings.Contains(inactive, "connections") {
		t.Errorf("net-dumpxml --inactive shows live parts:\n%s", inactive)
	}
	n.checkPlumbing()

	wantContains(t, d.virsh("net-autostart", n.name), "marked as autostarted")
	wantContains(t, d.virsh("net-info", n.name), "Autostart:      yes")
	if _, err := os.Lstat(filepath.Join(d.dir, "network", "autostart", n.name+".xml")); err != nil {
		t.Errorf("autostart link: %v", err)
	}
	wantContains(t, d.virsh("net-autostart", "--disable", n.name), "unmarked as autostarted")
	wantContains(t, d.virsh("net-dhcp-leases", n.name), "Expiry Time", "MAC address")

	wantContains(t, d.virsh("net-destroy", n.name), "Network "+n.name+" destroyed")
	n.expectGone()
	wantContains(t, d.virsh("net-list", "--inactive"), n.name)
	wantContains(t, d.virsh("net-undefine", n.name), "Network "+n.name+" has been undefined")
	if strings.Contains(d.virsh("net-list", "--all"), n.name) {
		t.Errorf("undefined network still listed")
	}
	if _, err := os.Stat(filepath.Join(d.dir, "network", n.name+".xml")); err == nil {
		t.Error("net-undefine left the definition file")
	}

	wantContains(t, d.virsh("net-create", n.file()), "Network "+n.name+" created")
	wantContains(t, d.virsh("net-info", n.name), "Active:         yes", "Persistent:     no")
	n.checkPlumbing()
	d.virsh("net-destroy", n.name)
	if strings.Contains(d.virsh("net-list", "--all"), n.name) {
		t.Errorf("destroyed transient network still listed")
	}
	n.expectGone()
}

// checkPlumbing checks what an active NAT network has on the host.
func (n *testNet) checkPlumbing() {
	n.t.Helper()
	if linkGone(n.bridge) {
		n.t.Fatalf("no bridge %s", n.bridge)
	}
	wantContains(n.t, ip(n.t, "-4", "addr", "show", "dev", n.bridge), n.net+".1/24")
	if !n.tableExists() {
		n.t.Errorf("no nft table inet nsvirt-%s", n.name)
	}
	n.dnsmasqPid()
	if fwd := ipForward(n.t); fwd != "1" {
		n.t.Errorf("net.ipv4.ip_forward is %s while a NAT network runs", fwd)
	}
}

// TestNetworkDaemonCrash kills the daemon with SIGKILL while a NAT network
// runs: the restarted daemon lists it as active, with the same bridge,
// table and dnsmasq, and net-destroy still removes all of it. Killed again
// with the network's dnsmasq, the daemon comes back with the network
// inactive and its bridge, table and forwarding hold gone.
func TestNetworkDaemonCrash(t *testing.T) {
	d := startDaemon(t)
	n := newTestNet(t, d)
	d.virsh("net-define", n.file())
	d.virsh("net-start", n.name)
	pid := n.dnsmasqPid()
	d.kill()
	d.start()
	if !regexp.MustCompile(`(?m)^ ` + n.name + `\s+active\s+no\s+yes$`).MatchString(d.virsh("net-list", "--all")) {
		t.Fatalf("network not active after the crash:\n%s\n%s", d.virsh("net-list", "--all"), d.log.String())
	}
	n.checkPlumbing()
	if got := n.dnsmasqPid(); got != pid {
		t.Errorf("dnsmasq changed from %d to %d", pid, got)
	}
	d.virsh("net-destroy", n.name)
	n.expectGone()

	// A network whose dnsmasq died with the daemon is not taken over:
	// the restarted daemon removes what is left of it.
	d.virsh("net-start", n.name)
	pid = n.dnsmasqPid()
	d.kill()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dnsmasq to die", 5*time.Second, func() bool { return !n.dnsmasqAlive(pid) })
	d.start()
	wantContains(t, d.virsh("net-info", n.name), "Active:         no")
	n.expectGone()
}

// TestNetworkPython drives networks through python3-libvirt: lookups,
// listings, create/destroy of a transient network, define/create/
// undefine of a persistent one, and the lifecycle events of all that.
func TestNetworkPython(t *testing.T) {
	d := startDaemon(t)
	n := newTestNet(t, d)
	out := d.python(`
import os, threading, time, libvirt
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
c = libvirt.open(os.environ["URI"])
seen = []
c.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE,
                          lambda conn, net, ev, detail, opaque: seen.append((net.name(), ev)), None)
name, xml = os.environ["NAME"], os.environ["XML"]
net = c.networkCreateXML(xml)
assert net.name() == name
assert c.networkLookupByName(name).UUIDString() == net.UUIDString()
assert c.networkLookupByUUIDString(net.UUIDString()).name() == name
assert net.isActive() == 1 and net.isPersistent() == 0
assert net.bridgeName() == os.environ["BRIDGE"], net.bridgeName()
assert name in [x.name() for x in c.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_TRANSIENT)]
assert name not in [x.name() for x in c.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_PERSISTENT)]
assert name in c.listNetworks() and c.numOfNetworks() >= 1
assert net.DHCPLeases() == []
net.destroy()
try:
    c.networkLookupByName(name)
    raise SystemExit("destroyed transient network still exists")
except libvirt.libvirtError as e:
    assert e.get_error_code() == libvirt.VIR_ERR_NO_NETWORK, e
net = c.networkDefineXML(xml)
assert name in c.listDefinedNetworks()
net.create()
net.setAutostart(1)
assert net.autostart() == 1
net.setAutostart(0)
assert "<port start='1024' end='65535'/>" in net.XMLDesc(0)
assert "<port" not in net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
net.destroy()
net.undefine()
for _ in range(100):
    if len(seen) >= 6:
        break
    time.sleep(0.05)
print(seen)
E = libvirt
assert seen == [(name, E.VIR_NETWORK_EVENT_STARTED), (name, E.VIR_NETWORK_EVENT_STOPPED),
                (name, E.VIR_NETWORK_EVENT_DEFINED), (name, E.VIR_NETWORK_EVENT_STARTED),
                (name, E.VIR_NETWORK_EVENT_STOPPED), (name, E.VIR_NETWORK_EVENT_UNDEFINED)], seen
ro = libvirt.open(os.environ["RO_URI"])
assert name not in [x.name() for x in ro.listAllNetworks()]
try:
    ro.networkDefineXML(xml)
    raise SystemExit("read-only connection defined a network")
except libvirt.libvirtError as e:
    assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, e
print("ok")
`, "NAME="+n.name, "XML="+n.xml(), "BRIDGE="+n.bridge)
	if !strings.Contains(out, "ok") {
		t.Fatalf("python: %s", out)
	}
	n.expectGone()
}

// TestNetworkBadInput checks libvirt's refusals and that a refused define
// or a failed start leaves nothing behind.
func TestNetworkBadInput(t *testing.T) {
	d := startDaemon(t)
	n := newTestNet(t, d)
	other := newTestNet(t, d)
	for other.net == n.net {
		other.net = testSubnet(t)
	}
	d.virsh("net-define", n.file())

	taken := strings.Replace(other.xml(), "<bridge name='"+other.bridge+"'/>", "<bridge name='"+n.bridge+"'/>", 1)
	tests := []struct{ name, xml, msg string }{
		{"bridge in use", taken, "bridge name '" + n.bridge + "' already in use."},
		{"invalid XML", "<network><name>" + other.name + "</name>", "Premature end of data"},
		{"unknown forward mode", strings.Replace(other.xml(), "mode='nat'", "mode='teleport'", 1), "unknown forwarding type 'teleport'"},
		{"same name, other uuid", strings.Replace(n.xml(), "<name>", "<uuid>00000000-0000-4000-8000-000000000001</uuid><name>", 1),
			"network '" + n.name + "' already exists with uuid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, d.dir, "bad.xml", tt.xml)
			for _, cmd := range []string{"net-define", "net-create"} {
				_, errOut, err := d.virshResult(cmd, file)
				if err == nil || !strings.Contains(errOut, tt.msg) {
					t.Errorf("%s: err %v, stderr %q, want %q", cmd, err, errOut, tt.msg)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(d.dir, "network", other.name+".xml")); err == nil {
		t.Error("a refused define wrote its file")
	}
	_, errOut, err := d.virshResult("net-destroy", n.name)
	if err == nil || !strings.Contains(errOut, "network '"+n.name+"' is not active") {
		t.Errorf("net-destroy of an inactive network: %v %s", err, errOut)
	}
	ro := exec.Command("virsh", "-c", "lxc:///system?socket="+d.socket+"-ro", "net-start", n.name)
	if out, err := ro.CombinedOutput(); err == nil || !strings.Contains(string(out), "read only access prevents virNetworkCreate") {
		t.Errorf("net-start on the read-only socket: %v %s", err, out)
	}
	other.expectGone()
	n.expectGone()
}

// TestNetworkSubnetInUse starts a network whose subnet is taken by a veth
// the test made: the start fails and leaves nothing.
func TestNetworkSubnetInUse(t *testing.T) {
	d := startDaemon(t)
	n := newTestNet(t, d)
	veth, _ := testVeth(t)
	ip(t, "addr", "add", n.net+".9/24", "dev", veth)
	d.virsh("net-define", n.file())
	_, errOut, err := d.virshResult("net-start", n.name)
	if err == nil || !strings.Contains(errOut, "overlaps") || !strings.Contains(errOut, veth) {
		t.Fatalf("net-start on a subnet in use: %v %s", err, errOut)
	}
	wantContains(t, d.virsh("net-info", n.name), "Active:         no")
	n.expectGone()
	if _, err := os.Stat(filepath.Join(d.stateDir, "network")); err == nil {
		t.Error("the failed start left the network state directory")
	}
}

// TestNetworkDefaultSubnetFlag checks --default-network-subnet's
// validation, and that it and --network-dir shape the default network.
func TestNetworkDefaultSubnetFlag(t *testing.T) {
	for _, bad := range []string{"10.0.0.1/24", "10.0.0.0/31", "10.0.0.0/7", "fd00::/64", "x"} {
		if _, err := parseDefaultSubnet(bad); err == nil {
			t.Errorf("--default-network-subnet %s accepted", bad)
		}
	}
	if p, err := parseDefaultSubnet("172.30.0.0/16"); err != nil || p.String() != "172.30.0.0/16" {
		t.Errorf("parseDefaultSubnet(172.30.0.0/16) = %v, %v", p, err)
	}
	requireRoot(t)
	requireTool(t, "virsh", "libvirt-clients")
	dir := filepath.Join(t.TempDir(), "nets") // the default network is defined when it is created
	d := startDaemon(t, "--network-dir", dir, "--default-network-subnet", "172.30.0.0/16")
	wantContains(t, d.virsh("net-dumpxml", "default"), "<ip address='172.30.0.1' netmask='255.255.0.0'>")
	if _, err := os.Stat(filepath.Join(dir, "default.xml")); err != nil {
		t.Errorf("--network-dir not used: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.dir, "network")); err == nil {
		t.Error("the default network directory was created despite --network-dir")
	}
}

// TestNetworkStartRollback makes a start fail at its last step, after the
// bridge, firewall table and forwarding are in place: the test daemon's
// state directory is below a directory others cannot search, so dnsmasq
// (which drops to nobody) could not read the static host the network has.
// Everything the start made must go again.
func TestNetworkStartRollback(t *testing.T) {
	d := startDaemon(t)
	n := newTestNet(t, d)
	if fi, err := os.Stat(filepath.Dir(d.dir)); err != nil || fi.Mode().Perm()&0o001 != 0 {
		t.Skipf("the test directory %s is searchable by others (%v)", filepath.Dir(d.dir), err)
	}
	static := "<host mac='52:54:00:00:00:01' name='web' ip='" + n.net + ".10'/>\n    </dhcp>"
	d.virsh("net-define", writeFile(t, d.dir, "static.xml", strings.Replace(n.xml(), "</dhcp>", static, 1)))
	_, errOut, err := d.virshResult("net-start", n.name)
	if err == nil || !strings.Contains(errOut, "is not searchable by others") {
		t.Fatalf("net-start: %v %s", err, errOut)
	}
	for _, step := range []string{"bridge", "firewall", "forwarding"} {
		if !d.logged(`msg="network start step" network=` + n.name + ` step=` + step) {
			t.Errorf("the start failed before step %s: the test does not test the roll-back", step)
		}
	}
	wantContains(t, d.virsh("net-info", n.name), "Active:         no")
	n.expectGone()
	if _, err := os.Stat(filepath.Join(d.stateDir, "network")); err == nil {
		t.Error("the failed start left the network state directory")
	}
}
