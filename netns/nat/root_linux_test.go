package nat

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/nsvirt/nsvirt/netns/internal/nstest"
)

// needsRoot says why the root tests, each in a throwaway network namespace
// (see nstest.InThrowawayNetns), need root.
const needsRoot = "it creates network namespaces, bridges and nftables tables"

// natLab is a router namespace (the test's own) with a bridge carrying a
// network subnet, a client namespace on the bridge and an "outside"
// namespace on an uplink. The outside has no route back to the network's
// subnet, so the client reaches it only through masquerading.
type natLab struct {
	bridge, uplink string
	subnet         netip.Prefix
	outsideAddr    string
	client         *nstest.Peer
	busybox        string
}

func newNATLab(t *testing.T) *natLab {
	t.Helper()
	nstest.RequireTool(t, "nsenter")
	id, r := nstest.RandHex(4), nstest.RandByte()
	l := &natLab{
		busybox:     nstest.RequireTool(t, "busybox"),
		bridge:      "nsvt-br" + id,
		uplink:      "nsvt-up" + id,
		subnet:      netip.MustParsePrefix(fmt.Sprintf("10.213.%d.0/24", r)),
		outsideAddr: fmt.Sprintf("10.214.%d.2", r),
	}
	nstest.Sh(t, "ip", "link", "set", "lo", "up")
	if err := CheckSubnet(l.subnet); err != nil {
		t.Fatalf("CheckSubnet before the bridge exists: %v", err)
	}
	nstest.Sh(t, "ip", "link", "add", l.bridge, "type", "bridge")
	nstest.Sh(t, "ip", "addr", "add", fmt.Sprintf("10.213.%d.1/24", r), "dev", l.bridge)
	nstest.Sh(t, "ip", "link", "set", l.bridge, "up")

	l.client = nstest.NewPeer(t)
	port := "nsvt-vb" + id
	l.client.AddVeth(t, port, "eth0", "", fmt.Sprintf("10.213.%d.50/24", r))
	nstest.Sh(t, "ip", "link", "set", port, "master", l.bridge)
	l.client.Must(t, "ip", "route", "add", "default", "via", fmt.Sprintf("10.213.%d.1", r))

	outside := nstest.NewPeer(t)
	outside.AddVeth(t, l.uplink, "eth0", "", l.outsideAddr+"/24")
	nstest.Sh(t, "ip", "addr", "add", fmt.Sprintf("10.214.%d.1/24", r), "dev", l.uplink)
	return l
}

// reaches reports whether the client gets a ping answer from outside.
func (l *natLab) reaches(tries int) bool {
	for range tries {
		if _, err := l.client.Run(l.busybox, "ping", "-c", "1", "-W", "1", l.outsideAddr); err == nil {
			return true
		}
	}
	return false
}

func (l *natLab) network(name string, mode Mode) Network {
	return Network{Name: name, Bridge: l.bridge, Subnets: []netip.Prefix{l.subnet}, Mode: mode}
}

func TestRootCheckSubnet(t *testing.T) {
	if !nstest.InThrowawayNetns(t, needsRoot) {
		return
	}
	l := newNATLab(t)
	err := CheckSubnet(netip.MustParsePrefix(l.subnet.Addr().String() + "/16"))
	var oe *OverlapError
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), l.bridge) {
		t.Errorf("CheckSubnet of a /16 around the bridge subnet = %v", err)
	}
	if err := CheckSubnet(l.subnet, l.bridge); err != nil {
		t.Errorf("CheckSubnet ignoring the network's own bridge = %v", err)
	}
}

func TestRootApplyModes(t *testing.T) {
	if !nstest.InThrowawayNetns(t, needsRoot) {
		return
	}
	nstest.RequireTool(t, "nft")
	l := newNATLab(t)
	name := "nat test/" + nstest.RandHex(4)
	t.Cleanup(func() { Remove(name) })

	// A new namespace copies the host's ip_forward: start from 0 so that
	// Release has a value of its own to restore.
	if err := os.WriteFile("/proc/sys/"+IPv4Forward, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	sysctls := NewSysctls("", t.TempDir()) // this namespace's own /proc/sys/net
	n := l.network(name, NAT)
	if err := sysctls.Acquire(name, ForwardSysctls(n)...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sysctls.Release(name) })

	if l.reaches(1) {
		t.Fatal("the client reaches the outside before any NAT rule")
	}
	applyAndList(t, n, "masquerade to :1024-65535")
	if !l.reaches(5) {
		t.Error("NAT: the client does not reach the outside")
	}
	applyAndList(t, l.network(name, Isolated), `iifname "`+l.bridge+`" reject`)
	if l.reaches(1) {
		t.Error("isolated: the client still reaches the outside")
	}
	applyAndList(t, l.network(name, Route), "ip daddr "+l.subnet.String()+" accept")
	if l.reaches(1) {
		t.Error("route: the client reaches an outside that has no route back")
	}
	removeAndCheck(t, name)
	if err := sysctls.Release(name); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile("/proc/sys/" + IPv4Forward); strings.TrimSpace(string(b)) != "0" {
		t.Errorf("ip_forward in the namespace after Release = %s", b)
	}
}

// applyAndList applies n and checks the listed table has want, once.
func applyAndList(t *testing.T, n Network, want string) {
	t.Helper()
	if err := Apply(n); err != nil {
		t.Fatal(err)
	}
	if err := Apply(n); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	out := nstest.Sh(t, "nft", "list", "table", "inet", Table(n.Name))
	if strings.Count(out, want) != 1 {
		t.Errorf("nft list table after Apply(%v) has %q %d times, want once:\n%s", n.Mode, want, strings.Count(out, want), out)
	}
	names, err := ListTables()
	if err != nil || !slices.Contains(names, n.Name) {
		t.Errorf("ListTables = %q, %v; want it to hold %q", names, err, n.Name)
	}
}

func removeAndCheck(t *testing.T, name string) {
	t.Helper()
	for range 2 {
		if err := Remove(name); err != nil {
			t.Fatalf("Remove: %v", err)
		}
	}
	if out := nstest.Sh(t, "nft", "list", "tables"); strings.Contains(out, Table(name)) {
		t.Errorf("table left after Remove:\n%s", out)
	}
	if names, err := ListTables(); err != nil || len(names) != 0 {
		t.Errorf("ListTables after Remove = %q, %v", names, err)
	}
}

// TestRootApplyFailureKeepsTable checks that a ruleset nft refuses leaves
// the previous table in place.
func TestRootApplyFailureKeepsTable(t *testing.T) {
	if !nstest.InThrowawayNetns(t, needsRoot) {
		return
	}
	nstest.RequireTool(t, "nft")
	n := Network{Name: "keep", Bridge: "nsvt-br" + nstest.RandHex(4), Mode: NAT,
		Subnets: []netip.Prefix{netip.MustParsePrefix("10.215.0.0/24")}}
	if err := Apply(n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Remove(n.Name) })
	bad := replaceScript(n) + "table inet " + Table(n.Name) + " { chain x { bogus } }\n"
	if _, err := runNft(bad, "-f", "-"); err == nil {
		t.Fatal("nft accepted a bogus ruleset")
	}
	out := nstest.Sh(t, "nft", "list", "table", "inet", Table(n.Name))
	if !strings.Contains(out, "masquerade") {
		t.Errorf("table lost after a failed transaction:\n%s", out)
	}
}

// TestRootRulesetsLoad has the kernel accept every ruleset of the unit
// tests, and ListTables find them all.
func TestRootRulesetsLoad(t *testing.T) {
	if !nstest.InThrowawayNetns(t, needsRoot) {
		return
	}
	nstest.RequireTool(t, "nft")
	var want []string
	for _, tc := range rulesetCases() {
		if err := Apply(tc.n); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		want = append(want, tc.n.Name)
	}
	got, err := ListTables()
	slices.Sort(want)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ListTables = %q, %v; want %q", got, err, want)
	}
	for _, name := range want {
		removeAndCheckOne(t, name)
	}
}

func removeAndCheckOne(t *testing.T, name string) {
	t.Helper()
	if err := Remove(name); err != nil {
		t.Errorf("Remove(%q): %v", name, err)
	}
	if names, _ := ListTables(); slices.Contains(names, name) {
		t.Errorf("table of %q left after Remove", name)
	}
}
