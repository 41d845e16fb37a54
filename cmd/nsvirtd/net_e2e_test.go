package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Network tests use only links, bridges and addresses (10.213.X.0/24)
// that they create, and never send traffic off the machine.

// randHex returns n random hex digits.
func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// ip runs the ip command and fails the test when it fails.
func ip(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// linkGone reports whether no link called name exists on the host.
func linkGone(name string) bool {
	return exec.Command("ip", "link", "show", "dev", name).Run() != nil
}

// testSubnet picks a 10.213.X.0/24 that no host address or route uses,
// and returns "10.213.X".
func testSubnet(t testing.TB) string {
	t.Helper()
	routes, _ := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
	addrs, _ := exec.Command("ip", "-4", "addr").Output()
	for i := 0; i < 50; i++ {
		var b [1]byte
		rand.Read(b[:])
		net := fmt.Sprintf("10.213.%d", 1+int(b[0])%250)
		if !strings.Contains(string(routes), net+".") && !strings.Contains(string(addrs), net+".") &&
			!strings.Contains(string(routes), "10.213.0.0/16") && !strings.Contains(string(routes), "10.0.0.0/8") {
			return net
		}
	}
	t.Fatal("no free 10.213.X.0/24 test subnet")
	return ""
}

// testBridge creates a bridge with address NET.1/24 for the test.
func testBridge(t testing.TB) (name, net string) {
	t.Helper()
	requireRoot(t)
	name, net = "nsvtb"+randHex(6), testSubnet(t)
	ip(t, "link", "add", name, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", name).Run() })
	ip(t, "addr", "add", net+".1/24", "dev", name)
	ip(t, "link", "set", name, "up")
	return name, net
}

// testVeth creates a veth pair on the host for the test.
func testVeth(t testing.TB) (a, b string) {
	t.Helper()
	suffix := randHex(6)
	a, b = "nsvta"+suffix, "nsvtz"+suffix
	ip(t, "link", "add", a, "type", "veth", "peer", "name", b)
	t.Cleanup(func() { exec.Command("ip", "link", "del", a).Run(); exec.Command("ip", "link", "del", b).Run() })
	ip(t, "link", "set", a, "up")
	ip(t, "link", "set", b, "up")
	return a, b
}

// bridgePorts lists the links attached to a bridge.
func bridgePorts(t testing.TB, bridge string) []string {
	out, _ := exec.Command("ip", "-o", "link", "show", "master", bridge).Output()
	var ports []string
	for _, m := range regexp.MustCompile(`(?m)^\d+: ([^@:]+)`).FindAllStringSubmatch(string(out), -1) {
		ports = append(ports, m[1])
	}
	return ports
}

func pingFrom(t testing.TB, id int, addr string) bool {
	t.Helper()
	out := inside(t, id, false, "ping -c1 -W2 "+addr+" >/dev/null 2>&1 && echo reachable || echo unreachable")
	return strings.Contains(out, "reachable") && !strings.Contains(out, "unreachable")
}

func bridgeIface(bridge, addr string, more string) string {
	return fmt.Sprintf("    <interface type='bridge'><source bridge='%s'/><ip address='%s' prefix='24'/>%s</interface>\n", bridge, addr, more)
}

// TestBridgeInterfaces puts two containers on a test bridge: they reach
// each other and the bridge, their counters grow the right way, and their
// veths go when they stop.
func TestBridgeInterfaces(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	br, net := testBridge(t)
	id1 := d.defineAndStart(containerSpec{name: "br1", root: root, markers: markers,
		extra: bridgeIface(br, net+".11", "<guest dev='lan0'/><mtu size='1400'/>")})
	id2 := d.defineAndStart(containerSpec{name: "br2", root: root, markers: markers, extra: bridgeIface(br, net+".12", "")})
	waitMarker(t, markers, "br1")
	waitMarker(t, markers, "br2")
	wantContains(t, inside(t, id1, false, "ip -o addr show dev lan0; cat /sys/class/net/lan0/mtu"), net+".11/24", "1400")
	x := d.virsh("dumpxml", "br1")
	m := regexp.MustCompile(`<target dev='(vnet\d+)'/>`).FindStringSubmatch(x)
	if m == nil || !strings.Contains(x, "<guest dev='lan0' actual='lan0'/>") || !strings.Contains(x, "<alias name='net0'/>") {
		t.Fatalf("live XML lacks the interface details:\n%s", x)
	}
	host := m[1]
	if ports := bridgePorts(t, br); len(ports) != 2 {
		t.Errorf("bridge ports %v, want the two veths", ports)
	}
	before := d.virsh("domifstat", "br1", host)
	if !pingFrom(t, id1, net+".12") || !pingFrom(t, id1, net+".1") || !pingFrom(t, id2, net+".11") {
		t.Error("the containers on the bridge cannot reach each other or the bridge")
	}
	after := d.virsh("domifstat", "br1", host)
	counter := func(out, name string) int {
		m := regexp.MustCompile(host + ` ` + name + ` (\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("domifstat lacks %s:\n%s", name, out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if counter(after, "tx_packets") < counter(before, "tx_packets")+2 || counter(after, "rx_packets") < counter(before, "rx_packets")+2 {
		t.Errorf("counters did not grow the container's way:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	wantContains(t, d.virsh("domifaddr", "br1", "--source", "agent"), "lan0", net+".11/24")
	wantContains(t, d.virsh("domstats", "--interface", "br1"), "net.count=1", "net.0.name="+host, "net.0.tx.pkts=")
	d.virsh("destroy", "br1")
	d.virsh("destroy", "br2")
	if ports := bridgePorts(t, br); len(ports) != 0 {
		t.Errorf("veths left on the bridge: %v", ports)
	}
	if !linkGone(host) {
		t.Errorf("%s outlived its container", host)
	}
	expectClean(t, d, root, markers)
}

// TestEthernetDirectHostdev covers type='ethernet' (an unattached veth
// with host-side addresses), type='direct' (macvlan) and a host interface
// moved into a container and back.
func TestEthernetDirectHostdev(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	net := testSubnet(t)
	hostEnd := "nsvte" + randHex(6)
	t.Cleanup(func() { exec.Command("ip", "link", "del", hostEnd).Run() })
	eth := fmt.Sprintf(`    <interface type='ethernet'><target dev='%s'/><source><ip address='%s.1' prefix='24'/></source><ip address='%s.2' prefix='24'/></interface>
`, hostEnd, net, net)
	id := d.defineAndStart(containerSpec{name: "eth1", root: root, markers: markers, extra: eth})
	waitMarker(t, markers, "eth1")
	if !strings.Contains(ip(t, "-o", "addr", "show", "dev", hostEnd), net+".1/24") || !pingFrom(t, id, net+".1") {
		t.Errorf("ethernet interface: host end %s without its address, or unreachable", hostEnd)
	}
	d.virsh("destroy", "eth1")
	if !linkGone(hostEnd) {
		t.Errorf("%s outlived its container", hostEnd)
	}

	// Two macvlans in bridge mode on one parent reach each other.
	parent, _ := testVeth(t)
	dnet := testSubnet(t)
	direct := func(addr string) string {
		return fmt.Sprintf("    <interface type='direct'><source dev='%s' mode='bridge'/><ip address='%s' prefix='24'/></interface>\n", parent, addr)
	}
	idA := d.defineAndStart(containerSpec{name: "mv1", root: root, markers: markers, extra: direct(dnet + ".21")})
	d.defineAndStart(containerSpec{name: "mv2", root: root, markers: markers, extra: direct(dnet + ".22")})
	waitMarker(t, markers, "mv1")
	waitMarker(t, markers, "mv2")
	details, _ := exec.Command("nsenter", "-t", strconv.Itoa(idA), "-n", "ip", "-d", "link", "show", "eth0").CombinedOutput()
	wantContains(t, string(details), "macvlan mode bridge")
	if !pingFrom(t, idA, dnet+".22") {
		t.Error("macvlan containers cannot reach each other")
	}
	d.virsh("destroy", "mv1")
	d.virsh("destroy", "mv2")

	// A host interface moves in, keeps its name, and comes back at stop.
	hd, _ := testVeth(t)
	hostdev := fmt.Sprintf("    <hostdev mode='capabilities' type='net'><source><interface>%s</interface></source></hostdev>\n", hd)
	idH := d.defineAndStart(containerSpec{name: "hd1", root: root, markers: markers, extra: hostdev})
	waitMarker(t, markers, "hd1")
	wantContains(t, inside(t, idH, false, "ip -o link show"), hd)
	if !linkGone(hd) {
		t.Errorf("%s is still on the host while the container holds it", hd)
	}
	d.virsh("destroy", "hd1")
	waitFor(t, hd+" to come back to the host", 10*time.Second, func() bool { return !linkGone(hd) })
	expectClean(t, d, root, markers)
}

// TestAttachDetachInterface adds and removes an interface of a running
// container and of its definition.
func TestAttachDetachInterface(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	br, _ := testBridge(t)
	id := d.defineAndStart(containerSpec{name: "at1", root: root, markers: markers, netOn: true})
	waitMarker(t, markers, "at1")
	mac := "52:54:00:12:34:56"
	d.virsh("attach-interface", "at1", "--type", "bridge", "--source", br, "--mac", mac, "--live", "--config")
	wantContains(t, inside(t, id, false, "ip -o link show eth0"), mac)
	wantContains(t, d.virsh("dumpxml", "--inactive", "at1"), "<mac address='"+mac+"'/>")
	wantContains(t, d.virsh("domiflist", "at1"), "bridge", br, mac)
	if ports := bridgePorts(t, br); len(ports) != 1 {
		t.Errorf("bridge ports after attach: %v", ports)
	}
	if _, errOut, err := d.virshResult("attach-interface", "at1", "--type", "bridge", "--source", br, "--mac", mac, "--live"); err == nil || !strings.Contains(errOut, "already exists") {
		t.Errorf("attach of a duplicate MAC: %v %s", err, errOut)
	}
	d.virsh("detach-interface", "at1", "--type", "bridge", "--mac", mac, "--live", "--config")
	if out := inside(t, id, false, "ip -o link show"); strings.Contains(out, "eth0") {
		t.Errorf("eth0 still in the container after detach:\n%s", out)
	}
	if x := d.virsh("dumpxml", "--inactive", "at1"); strings.Contains(x, mac) {
		t.Errorf("the definition still has the detached interface:\n%s", x)
	}
	if ports := bridgePorts(t, br); len(ports) != 0 {
		t.Errorf("bridge ports after detach: %v", ports)
	}
	// virsh looks for the interface in the live XML itself first.
	if _, errOut, err := d.virshResult("detach-interface", "at1", "--type", "bridge", "--mac", mac, "--live"); err == nil || !strings.Contains(errOut, "No interface found") {
		t.Errorf("detach of a missing interface: %v %s", err, errOut)
	}
	d.virsh("destroy", "at1")
	expectClean(t, d, root, markers)
}

// TestInterfaceBadInput checks refusals: a missing bridge, a duplicate
// MAC, an invalid address; each a clear error, and nothing left behind.
func TestInterfaceBadInput(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	missing := "nsvtx" + randHex(6)
	spec := containerSpec{name: "bad1", root: root, markers: markers, extra: bridgeIface(missing, "10.213.250.2", "")}
	d.virsh("define", writeFile(t, d.dir, "bad1.xml", spec.xml()))
	_, errOut, err := d.virshResult("start", "bad1")
	if err == nil || !strings.Contains(errOut, missing) || !strings.Contains(errOut, "does not exist") {
		t.Errorf("start on a missing bridge: %v %s", err, errOut)
	}
	wantContains(t, d.virsh("domstate", "bad1"), "shut off")
	for _, c := range []struct{ name, extra, want string }{
		{"dupmac", "<interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='x'/></interface><interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='y'/></interface>", "52:54:00:00:00:01"},
		{"badip", "<interface type='bridge'><source bridge='x'/><ip address='10.213.300.1' prefix='24'/></interface>", "10.213.300.1"},
		{"badmac", "<interface type='bridge'><mac address='52:54:00:zz:00:01'/><source bridge='x'/></interface>", "52:54:00:zz:00:01"},
	} {
		file := writeFile(t, d.dir, c.name+".xml", containerSpec{name: c.name, root: root, extra: c.extra}.xml())
		_, errOut, err := d.virshResult("define", file)
		if err == nil {
			_, errOut, err = d.virshResult("start", c.name)
		}
		if err == nil || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: %v %s", c.name, err, errOut)
		}
	}
	out, _ := exec.Command("ip", "-o", "link").Output()
	if strings.Contains(string(out), "vnet") {
		t.Errorf("a failed start left a veth:\n%s", out)
	}
	expectClean(t, d, root, markers)
}

// natNetworkXML is a NAT network on a test bridge and subnet NET.0/24,
// with DHCP.
func natNetworkXML(name, bridge, net string) string {
	return fmt.Sprintf(`<network>
  <name>%s</name>
  <forward mode='nat'/>
  <bridge name='%s'/>
  <ip address='%s.1' netmask='255.255.255.0'>
    <dhcp><range start='%s.100' end='%s.200'/></dhcp>
  </ip>
</network>
`, name, bridge, net, net, net)
}

// udhcpcScript configures the address udhcpc obtains and records it.
const udhcpcScript = `#!/bin/sh
case "$1" in
bound|renew) ip addr add "$ip/$mask" dev "$interface"; echo "$ip" > /markers/lease ;;
esac
`

// TestNetworkInterface puts a container on a NAT network of nsvirt's:
// busybox udhcpc gets an address from its dnsmasq, and domifaddr,
// net-dhcp-leases and domhostname report it.
func TestNetworkInterface(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	bridge, net := "nsvtn"+randHex(6), testSubnet(t)
	t.Cleanup(func() {
		d.virshResult("net-destroy", "tnat")
		exec.Command("ip", "link", "del", bridge).Run()
	})
	d.virsh("net-define", writeFile(t, d.dir, "tnat.xml", natNetworkXML("tnat", bridge, net)))
	d.virsh("net-start", "tnat")
	writeFile(t, markers, "udhcpc.sh", udhcpcScript)
	exec.Command("chmod", "755", markers+"/udhcpc.sh").Run()
	iface := "    <interface type='network'><source network='tnat'/></interface>\n"
	id := d.defineAndStart(containerSpec{name: "dh1", root: root, markers: markers, extra: iface})
	waitMarker(t, markers, "dh1")
	inside(t, id, false, "ip link set eth0 up; udhcpc -i eth0 -n -q -t 10 -x hostname:dh1 -s /markers/udhcpc.sh >/dev/null 2>&1")
	lease, err := os.ReadFile(markers + "/lease")
	if err != nil {
		t.Fatalf("udhcpc got no lease: %v", err)
	}
	addr := strings.TrimSpace(string(lease))
	if !strings.HasPrefix(addr, net+".") {
		t.Fatalf("leased %q, outside %s.0/24", addr, net)
	}
	if !pingFrom(t, id, net+".1") {
		t.Error("the container cannot reach its network's bridge")
	}
	wantContains(t, d.virsh("domifaddr", "dh1"), addr+"/24")
	wantContains(t, d.virsh("net-dhcp-leases", "tnat"), addr+"/24", "dh1")
	wantContains(t, d.virsh("domhostname", "dh1", "--source", "lease"), "dh1")
	wantContains(t, d.virsh("net-dumpxml", "tnat"), "connections='1'")
	d.virsh("destroy", "dh1")
	if !strings.Contains(d.virsh("net-dumpxml", "tnat"), "<network>") || strings.Contains(d.virsh("net-dumpxml", "tnat"), "connections=") {
		t.Errorf("the network still counts the stopped container:\n%s", d.virsh("net-dumpxml", "tnat"))
	}
	if ports := bridgePorts(t, bridge); len(ports) != 0 {
		t.Errorf("ports left on the network's bridge: %v", ports)
	}
	d.virsh("net-destroy", "tnat")
	if !linkGone(bridge) {
		t.Errorf("net-destroy left the bridge %s", bridge)
	}
	expectClean(t, d, root, markers)
}

// TestVirtInstallDefaultNetwork runs virt-install without --network: it
// picks the network "default", which nsvirt defines at first start-up
// (here on a test subnet).
func TestVirtInstallDefaultNetwork(t *testing.T) {
	requireTool(t, "virt-install", "virtinst")
	root := busyboxRootfs(t)
	net := testSubnet(t)
	d := startDaemon(t, "--default-network-subnet", net+".0/24")
	t.Cleanup(func() { d.virshResult("net-destroy", "default") })
	wantContains(t, d.virsh("net-list", "--all"), "default", "inactive")
	d.virsh("net-start", "default")
	bridge := strings.TrimSpace(d.virsh("net-info", "default"))
	if m := regexp.MustCompile(`Bridge:\s+(\S+)`).FindStringSubmatch(bridge); m != nil {
		bridge = m[1]
		t.Cleanup(func() { exec.Command("ip", "link", "del", bridge).Run() })
	}
	out, err := exec.Command("virt-install", "--connect", d.uri(), "--name", "vn1", "--memory", "64",
		"--filesystem", root+",/", "--init", "/sbin/init", "--noautoconsole").CombinedOutput()
	if err != nil {
		t.Fatalf("virt-install: %v\n%s", err, out)
	}
	x := d.virsh("dumpxml", "vn1")
	if !strings.Contains(x, "<source network='default'") || !strings.Contains(x, "<target dev='vnet") {
		t.Errorf("virt-install's domain is not on the default network:\n%s", x)
	}
	if ports := bridgePorts(t, bridge); len(ports) != 1 {
		t.Errorf("ports of %s: %v", bridge, ports)
	}
	d.virsh("destroy", "vn1")
	d.virsh("undefine", "vn1")
	d.virsh("net-destroy", "default")
	if !linkGone(bridge) {
		t.Errorf("net-destroy left %s", bridge)
	}
	expectClean(t, d, root)
}
