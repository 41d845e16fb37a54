package netns

import (
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

func TestVethOnBridge(t *testing.T) {
	l := newLab(t)
	br := l.bridge(l.v4(1, 24), l.v6(1, 64))
	ns, _ := l.container()
	host := l.name("v")
	p, err := Setup(ns, []Iface{{
		Kind: Veth, HostName: host, Bridge: br, GuestName: "eth0",
		MAC: l.mac(2), MTU: 1400,
		Addrs: []netip.Prefix{l.v4(2, 24), l.v6(2, 64)},
		Routes: []Route{
			{Gateway: l.v4(1, 24).Addr()},
			{Dst: netip.MustParsePrefix("10.213.0.0/16"), Gateway: l.v4(1, 24).Addr(), Metric: 7},
			{Gateway: l.v6(1, 64).Addr()},
		},
	}})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	l.teardown(p, ns)
	if len(p.Links) != 1 || p.Links[0].HostName != host || p.Links[0].GuestName != "eth0" || p.Links[0].MAC != l.mac(2).String() {
		t.Errorf("Plumbing = %+v", p)
	}

	h := l.hostLink(host)
	if h.Type() != "veth" || h.Attrs().MasterIndex != l.hostLink(br).Attrs().Index {
		t.Errorf("host end %s is a %s with master %d, want a veth on %s", host, h.Type(), h.Attrs().MasterIndex, br)
	}
	if h.Attrs().HardwareAddr.String() != hostMAC(l.mac(2)).String() || h.Attrs().MTU != 1400 || h.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("host end: MAC %s MTU %d flags %v", h.Attrs().HardwareAddr, h.Attrs().MTU, h.Attrs().Flags)
	}

	links, err := GuestAddrs(ns)
	if err != nil {
		t.Fatalf("GuestAddrs: %v", err)
	}
	if len(links) != 2 || links[0].Name != "lo" || links[1].Name != "eth0" {
		t.Fatalf("container links %+v, want lo and eth0", links)
	}
	eth0 := links[1]
	if eth0.MAC.String() != l.mac(2).String() {
		t.Errorf("eth0 MAC %s, want %s", eth0.MAC, l.mac(2))
	}
	for _, want := range []netip.Prefix{l.v4(2, 24), l.v6(2, 64)} {
		if !slices.Contains(eth0.Addrs, want) {
			t.Errorf("eth0 addresses %v lack %s", eth0.Addrs, want)
		}
	}
	in := l.inside(ns)
	g, err := in.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	if g.Attrs().MTU != 1400 || g.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("eth0 MTU %d flags %v", g.Attrs().MTU, g.Attrs().Flags)
	}
	if lo, err := in.LinkByName("lo"); err != nil || lo.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("lo is not up: %v", err)
	}
	routes, err := in.RouteList(g, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	metric := map[string]int{} // "dst via gw" -> metric
	for _, r := range routes {
		if r.Gw != nil {
			metric[r.Dst.String()+" via "+r.Gw.String()] = r.Priority
		}
	}
	for _, want := range []string{
		"0.0.0.0/0 via " + l.v4(1, 24).Addr().String(),
		"10.213.0.0/16 via " + l.v4(1, 24).Addr().String(),
		"::/0 via " + l.v6(1, 64).Addr().String(),
	} {
		if _, ok := metric[want]; !ok {
			t.Errorf("routes %v lack %q", metric, want)
		}
	}
	if m := metric["10.213.0.0/16 via "+l.v4(1, 24).Addr().String()]; m != 7 {
		t.Errorf("route metric %d, want 7", m)
	}

	l.mustPing(ns, l.v4(1, 24).Addr())

	if err := p.Teardown(ns); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
	l.gone(host)
	l.onlyLo(ns)
}

func TestTwoContainersOnABridge(t *testing.T) {
	l := newLab(t)
	br := l.bridge(l.v4(1, 24))
	var nss []NS
	for i := range 2 {
		ns, _ := l.container()
		p, err := Setup(ns, []Iface{{Kind: Veth, Bridge: br, Addrs: []netip.Prefix{l.v4(byte(2+i), 24)}}})
		if err != nil {
			t.Fatalf("Setup: %v", err)
		}
		l.teardown(p, ns)
		// The names were chosen by Setup.
		link := p.Links[0]
		l.watchLink(link.HostName, link.HostIndex)
		if !strings.HasPrefix(link.HostName, "vnet") || link.GuestName != "eth0" {
			t.Errorf("chosen names %s/%s, want vnetN/eth0", link.HostName, link.GuestName)
		}
		nss = append(nss, ns)
	}
	l.mustPing(nss[0], l.v4(3, 24).Addr())
	l.mustPing(nss[1], l.v4(2, 24).Addr())
	// No one holds .99; the ARP request stays on the test's bridge.
	if err := ping(nss[0], l.v4(99, 24).Addr()); err == nil {
		t.Error("a ping to an address no one holds succeeded")
	}
}

// TestChosenNameAvoidsGivenOne gives the second interface the vnetN name
// that the first, left unnamed, would otherwise get.
func TestChosenNameAvoidsGivenOne(t *testing.T) {
	l := newLab(t)
	br := l.bridge()
	ns, _ := l.container()
	given, err := FreeName("vnet")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Setup(ns, []Iface{{Kind: Veth, Bridge: br}, {Kind: Veth, HostName: given, Bridge: br}})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	l.teardown(p, ns)
	for _, link := range p.Links {
		l.watchLink(link.HostName, link.HostIndex)
	}
	if p.Links[0].HostName == given || p.Links[1].HostName != given {
		t.Errorf("host names %s and %s, want the second to be %s", p.Links[0].HostName, p.Links[1].HostName, given)
	}
}

func TestEthernet(t *testing.T) {
	l := newLab(t)
	ns, _ := l.container()
	host := l.name("e")
	hostRoute := Route{Dst: l.v4(128, 25), Gateway: l.v4(2, 25).Addr()}
	p, err := Setup(ns, []Iface{{
		Kind: Veth, HostName: host,
		HostAddrs:  []netip.Prefix{l.v4(1, 25)},
		HostRoutes: []Route{hostRoute},
		Addrs:      []netip.Prefix{l.v4(2, 25), l.v4(129, 25)},
	}})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	l.teardown(p, ns)
	h := l.hostLink(host)
	if h.Attrs().MasterIndex != 0 {
		t.Errorf("host end %s is attached to %d", host, h.Attrs().MasterIndex)
	}
	addrs, err := netlink.AddrList(h, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 || addrs[0].IPNet.String() != l.v4(1, 25).String() {
		t.Errorf("host end addresses %v, %v; want %s", addrs, err, l.v4(1, 25))
	}
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{LinkIndex: h.Attrs().Index}, netlink.RT_FILTER_OIF)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range routes {
		found = found || (r.Dst.String() == hostRoute.Dst.String() && r.Gw.String() == hostRoute.Gateway.String())
	}
	if !found {
		t.Errorf("host routes on %s %v lack %s", host, routes, hostRoute)
	}
	l.mustPing(ns, l.v4(1, 25).Addr())
	if err := p.Teardown(ns); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
	l.gone(host)
}

// TestMacvlanAndHostDev stacks a macvlan in one container on one end of a
// veth pair, moves the other end into a second container as a host
// device, and pings across; at teardown the device returns to the host.
func TestMacvlanAndHostDev(t *testing.T) {
	l := newLab(t)
	parent, dev := l.veth()
	if err := netlink.LinkSetUp(l.hostLink(parent)); err != nil {
		t.Fatal(err)
	}
	devBefore := l.hostLink(dev).Attrs()

	ns1, _ := l.container()
	mv, err := Setup(ns1, []Iface{{Kind: Macvlan, Parent: parent, Mode: "bridge", GuestName: "mv0", MAC: l.mac(2), Addrs: []netip.Prefix{l.v4(2, 24)}}})
	if err != nil {
		t.Fatalf("Setup macvlan: %v", err)
	}
	l.teardown(mv, ns1)
	in1 := l.inside(ns1)
	g, err := in1.LinkByName("mv0")
	if err != nil || g.Type() != "macvlan" || g.(*netlink.Macvlan).Mode != netlink.MACVLAN_MODE_BRIDGE || g.Attrs().HardwareAddr.String() != l.mac(2).String() {
		t.Fatalf("mv0 in the container: %v %+v", err, g)
	}

	ns2, _ := l.container()
	hd, err := Setup(ns2, []Iface{{Kind: HostDev, HostName: dev, MTU: 1280, Addrs: []netip.Prefix{l.v4(3, 24)}}})
	if err != nil {
		t.Fatalf("Setup hostdev: %v", err)
	}
	l.teardown(hd, ns2)
	l.gone(dev)
	if names := l.guestLinks(ns2); !slices.Equal(names, []string{"lo", "eth0"}) {
		t.Errorf("container links %v, want lo and eth0 (the moved %s)", names, dev)
	}
	l.mustPing(ns1, l.v4(3, 24).Addr())

	if err := hd.Teardown(ns2); err != nil {
		t.Fatalf("Teardown hostdev: %v", err)
	}
	l.onlyLo(ns2)
	back := l.hostLink(dev).Attrs()
	if back.MTU != devBefore.MTU || back.HardwareAddr.String() != devBefore.HardwareAddr.String() || back.Flags&net.FlagUp != 0 {
		t.Errorf("returned %s: MTU %d MAC %s flags %v; before MTU %d MAC %s, down", dev, back.MTU, back.HardwareAddr, back.Flags, devBefore.MTU, devBefore.HardwareAddr)
	}

	if err := mv.Teardown(ns1); err != nil {
		t.Fatalf("Teardown macvlan: %v", err)
	}
	l.onlyLo(ns1)
}

// TestHostDevNamespaceGone tears down a host device whose container died
// first: a virtual device dies with the namespace, and the record of it
// is dropped without error.
func TestHostDevNamespaceGone(t *testing.T) {
	l := newLab(t)
	a, b := l.veth()
	ns, proc := l.container()
	p, err := Setup(ns, []Iface{{Kind: HostDev, HostName: a, GuestName: "eth5"}})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	if p.Links[0].Physical {
		t.Errorf("veth %s recorded as physical", a)
	}
	kill(proc)
	if err := p.Teardown(ns); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
	if len(p.Links) != 0 {
		t.Errorf("Teardown kept %+v", p.Links)
	}
	// The kernel deletes the pair when it cleans up the namespace, a
	// little after the last process left.
	l.eventuallyGone(a, b)
}

// TestFindReturned finds one of the machine's own devices the way a
// physical host device returned from a dead namespace is found; it only
// reads.
func TestFindReturned(t *testing.T) {
	requireRoot(t)
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(links, func(l netlink.Link) bool { return l.Type() == "device" && len(l.Attrs().HardwareAddr) == 6 })
	if i < 0 {
		t.Skip("the host has no physical network device")
	}
	dev := links[i].Attrs()
	s, err := openHost()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	for _, index := range []int{dev.Index, 0, 1} {
		h, err := s.findReturned(Link{Kind: HostDev, HostIndex: index, MAC: dev.HardwareAddr.String(), Physical: true})
		if err != nil || h == nil || h.Attrs().Index != dev.Index {
			t.Errorf("findReturned with index %d = %v, %v; want %s", index, h, err, dev.Name)
		}
	}
	if h, err := s.findReturned(Link{Kind: HostDev, HostIndex: dev.Index, MAC: "52:54:00:ff:ff:ff", Physical: true}); h != nil || err != nil {
		t.Errorf("findReturned of another MAC = %v, %v", h, err)
	}
}

func TestSetupMissingDevice(t *testing.T) {
	l := newLab(t)
	br := l.bridge()
	missing := l.name("no")
	ns, _ := l.container()
	good := l.name("v")
	tests := []struct {
		name string
		bad  Iface
		want string
		is   error
	}{
		{"bridge", Iface{Kind: Veth, Bridge: missing}, `bridge "` + missing + `" does not exist`, ErrNotExist},
		{"parent", Iface{Kind: Macvlan, Parent: missing}, `parent device "` + missing + `" does not exist`, ErrNotExist},
		{"host device", Iface{Kind: HostDev, HostName: missing}, `host device "` + missing + `" does not exist`, ErrNotExist},
		{"host name taken", Iface{Kind: Veth, HostName: br}, `host link "` + br + `" already exists`, ErrExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Setup(ns, []Iface{{Kind: Veth, HostName: good, Bridge: br}, tt.bad})
			if err == nil {
				p.Teardown(ns)
				t.Fatal("Setup succeeded")
			}
			if !errors.Is(err, tt.is) || err.Error() != tt.want {
				t.Errorf("error %q, want %q wrapping %v", err, tt.want, tt.is)
			}
			l.gone(good)
			l.onlyLo(ns)
		})
	}
}

// TestSetupRollback fails on the last interface, after a veth was made
// and a host device moved, and checks that both are undone.
func TestSetupRollback(t *testing.T) {
	l := newLab(t)
	br := l.bridge(l.v4(1, 24))
	dev, _ := l.veth()
	ns, _ := l.container()
	host, host2 := l.name("v"), l.name("w")
	p, err := Setup(ns, []Iface{
		{Kind: Veth, HostName: host, Bridge: br, Addrs: []netip.Prefix{l.v4(2, 24)}},
		{Kind: HostDev, HostName: dev, GuestName: "eth1"},
		// The gateway is on no link of the container.
		{Kind: Veth, HostName: host2, Bridge: br, Addrs: []netip.Prefix{l.v4(3, 24)},
			Routes: []Route{{Gateway: netip.MustParseAddr("10.213.255.254")}}},
	})
	if err == nil {
		l.teardown(p, ns)
		t.Fatal("Setup succeeded")
	}
	if !strings.Contains(err.Error(), "add route default via 10.213.255.254 dev eth2") {
		t.Errorf("error %q does not name the route", err)
	}
	l.gone(host, host2)
	l.hostLink(dev)
	l.onlyLo(ns)
}

func TestSetupRefusesHostNamespace(t *testing.T) {
	l := newLab(t)
	host := l.name("v")
	if _, err := Setup(OfPID(os.Getpid()), []Iface{{Kind: Veth, HostName: host}}); err == nil || !strings.Contains(err.Error(), "is the host's own") {
		t.Errorf("Setup in the host's namespace: %v", err)
	}
	if _, err := Setup(l.nsDir()+"/none", nil); err == nil {
		t.Error("Setup in a missing namespace succeeded")
	}
	l.gone(host)
}

// nsDir is a directory with no namespace in it.
func (l *lab) nsDir() NS { return NS(l.t.TempDir()) }

func TestTeardownIdempotent(t *testing.T) {
	l := newLab(t)
	br := l.bridge()
	ns, proc := l.container()
	host := l.name("v")
	p, err := Setup(ns, []Iface{{Kind: Veth, HostName: host, Bridge: br}})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	l.teardown(p, ns)
	saved, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := p.Teardown(ns); err != nil {
			t.Fatalf("Teardown %d: %v", i+1, err)
		}
	}
	l.gone(host)

	// A later daemon tears down from its saved record after another link
	// took the name: that link is not the record's, and stays.
	var stale Plumbing
	if err := json.Unmarshal(saved, &stale); err != nil {
		t.Fatal(err)
	}
	other := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: host, TxQLen: -1}, PeerName: l.name("p"), PeerTxQLen: -1}
	if err := netlink.LinkAdd(other); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netlink.LinkDel(other) })
	kill(proc)
	if err := stale.Teardown(ns); err != nil {
		t.Fatalf("Teardown of a saved record: %v", err)
	}
	l.hostLink(host)
	var nilPlumbing *Plumbing
	if err := nilPlumbing.Teardown(ns); err != nil {
		t.Errorf("Teardown of nil: %v", err)
	}
}

// TestTeardownNamespaceGone tears a veth down after its container died.
func TestTeardownNamespaceGone(t *testing.T) {
	l := newLab(t)
	br := l.bridge()
	ns, proc := l.container()
	host := l.name("v")
	p, err := Setup(ns, []Iface{{Kind: Veth, HostName: host, Bridge: br}})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	l.teardown(p, ns)
	kill(proc)
	if err := p.Teardown(ns); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
	l.gone(host)
}

func TestAttachDetach(t *testing.T) {
	l := newLab(t)
	br := l.bridge(l.v4(1, 24))
	ns, _ := l.container()
	p, err := Setup(ns, nil)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	l.teardown(p, ns)
	l.onlyLo(ns)
	host := l.name("v")
	link, err := p.Attach(ns, Iface{Kind: Veth, HostName: host, Bridge: br, Addrs: []netip.Prefix{l.v4(2, 24)}})
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	if link.GuestName != "eth0" || len(p.Links) != 1 {
		t.Errorf("Attach made %+v, Plumbing %+v", link, p)
	}
	l.mustPing(ns, l.v4(1, 24).Addr())
	if _, err := p.Attach(ns, Iface{Kind: Veth, Bridge: br, GuestName: "eth0"}); err == nil || !errors.Is(err, ErrInvalid) {
		t.Errorf("Attach of a second eth0: %v", err)
	}
	if err := p.Detach(ns, "eth9"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Detach of an unknown interface: %v", err)
	}
	if err := p.Detach(ns, "eth0"); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	if len(p.Links) != 0 {
		t.Errorf("Detach kept %+v", p.Links)
	}
	l.gone(host)
	l.onlyLo(ns)
}

func TestStats(t *testing.T) {
	l := newLab(t)
	br := l.bridge(l.v4(1, 24))
	ns, _ := l.container()
	host := l.name("v")
	p, err := Setup(ns, []Iface{{Kind: Veth, HostName: host, Bridge: br, Addrs: []netip.Prefix{l.v4(2, 24)}}})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	l.teardown(p, ns)
	before, err := Stats(host)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	for range 3 {
		l.mustPing(ns, l.v4(1, 24).Addr())
	}
	after, err := Stats(host)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	// The host end receives the requests and sends the replies.
	if after.RxPackets < before.RxPackets+3 || after.TxPackets < before.TxPackets+3 ||
		after.RxBytes <= before.RxBytes || after.TxBytes <= before.TxBytes {
		t.Errorf("counters before %+v, after 3 pings %+v", before, after)
	}
	if _, err := Stats(l.name("no")); !errors.Is(err, ErrNotExist) {
		t.Errorf("Stats of a missing link: %v", err)
	}
}

func TestBridges(t *testing.T) {
	l := newLab(t)
	name := l.name("br")
	created, err := EnsureBridge(name, 1400, []netip.Prefix{l.v4(1, 24)}, true)
	if err != nil || !created {
		t.Fatalf("EnsureBridge = %v, %v", created, err)
	}
	t.Cleanup(func() { DeleteBridge(name) })
	if !LinkExists(name) {
		t.Fatalf("LinkExists(%s) = false", name)
	}
	created, err = EnsureBridge(name, 1400, []netip.Prefix{l.v4(1, 24), l.v6(1, 64)}, true)
	if err != nil || created {
		t.Fatalf("EnsureBridge again = %v, %v", created, err)
	}
	br := l.hostLink(name)
	addrs, err := netlink.AddrList(br, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range addrs {
		got = append(got, a.IPNet.String())
	}
	for _, want := range []string{l.v4(1, 24).String(), l.v6(1, 64).String()} {
		if !slices.Contains(got, want) {
			t.Errorf("bridge addresses %v lack %s", got, want)
		}
	}
	if br.Attrs().MTU != 1400 || br.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("bridge MTU %d flags %v", br.Attrs().MTU, br.Attrs().Flags)
	}

	a, _ := l.veth()
	if _, err := EnsureBridge(a, 0, nil, false); err == nil || !strings.Contains(err.Error(), "not a Linux bridge") {
		t.Errorf("EnsureBridge on a veth: %v", err)
	}
	if err := DeleteBridge(a); err == nil {
		t.Error("DeleteBridge deleted a veth")
	}
	if err := DeleteBridge(name); err != nil {
		t.Fatalf("DeleteBridge: %v", err)
	}
	if LinkExists(name) {
		t.Error("the bridge still exists")
	}
	if err := DeleteBridge(name); err != nil {
		t.Errorf("DeleteBridge of a missing bridge: %v", err)
	}
}

func TestFreeName(t *testing.T) {
	l := newLab(t)
	prefix := l.name("f")
	first, err := FreeName(prefix)
	if err != nil || first != prefix+"0" {
		t.Fatalf("FreeName = %q, %v", first, err)
	}
	l.watch(first)
	if _, err := EnsureBridge(first, 0, nil, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { DeleteBridge(first) })
	if next, err := FreeName(prefix); err != nil || next != prefix+"1" {
		t.Errorf("FreeName with %s taken = %q, %v", first, next, err)
	}
	if _, err := FreeName("a-name-too-long"); !errors.Is(err, ErrInvalid) {
		t.Errorf("FreeName of a long prefix: %v", err)
	}
}

// BenchmarkSetupVeth measures what one veth on a bridge, with an address
// and a route, adds to a container start.
func BenchmarkSetupVeth(b *testing.B) {
	l := newLab(b)
	br := l.bridge(l.v4(1, 24))
	ns, _ := l.container()
	host := l.name("v")
	it := Iface{Kind: Veth, HostName: host, Bridge: br, MAC: l.mac(2),
		Addrs: []netip.Prefix{l.v4(2, 24)}, Routes: []Route{{Gateway: l.v4(1, 24).Addr()}}}
	for b.Loop() {
		p, err := Setup(ns, []Iface{it})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := p.Teardown(ns); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// TestNoDescriptorLeak checks that Setup, Teardown and the queries close
// every namespace file and netlink socket they open.
func TestNoDescriptorLeak(t *testing.T) {
	l := newLab(t)
	br := l.bridge(l.v4(1, 24))
	ns, _ := l.container()
	host := l.name("v")
	fds := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	before := fds()
	for range 5 {
		p, err := Setup(ns, []Iface{{Kind: Veth, HostName: host, Bridge: br, Addrs: []netip.Prefix{l.v4(2, 24)}}})
		if err != nil {
			t.Fatalf("Setup: %v", err)
		}
		if _, err := GuestAddrs(ns); err != nil {
			t.Fatal(err)
		}
		if _, err := Stats(host); err != nil {
			t.Fatal(err)
		}
		if err := p.Teardown(ns); err != nil {
			t.Fatalf("Teardown: %v", err)
		}
		if _, err := Setup(ns, []Iface{{Kind: Veth, HostName: host, Bridge: l.name("no")}}); err == nil {
			t.Fatal("Setup on a missing bridge succeeded")
		}
	}
	if after := fds(); after != before {
		t.Errorf("%d open descriptors before, %d after", before, after)
	}
}
