package xmlconf

import (
	"net/netip"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// nativeNet is one network device of a configuration: lxc.net.N.* (LXC 3+)
// or a group of lxc.network.* lines started by lxc.network.type (legacy).
type nativeNet struct {
	first  nativeEntry
	prefix string // "lxc.net.N." or "lxc.network."
	values map[string]nativeValue
	ips    []nativeIP
}

// nativeIP is an address with its prefix length.
type nativeIP struct {
	addr   netip.Addr
	prefix uint
}

func newNativeNet(e nativeEntry, prefix string) *nativeNet {
	return &nativeNet{first: e, prefix: prefix, values: map[string]nativeValue{}}
}

func (n *nativeNet) get(sub string) (nativeValue, bool) {
	v, ok := n.values[sub]
	return v, ok && v.value != ""
}

// nativeNetValueKeys are the single-valued device keys nsvirt converts.
var nativeNetValueKeys = map[string]bool{
	"type": true, "link": true, "hwaddr": true, "flags": true, "name": true,
	"macvlan.mode": true, "vlan.id": true, "veth.pair": true, "mtu": true,
	"ipv4.gateway": true, "ipv6.gateway": true,
}

// nativeNetKnownKeys are LXC device keys nsvirt does not convert.
var nativeNetKnownKeys = map[string]bool{
	"veth.mode": true, "veth.ipv4.route": true, "veth.ipv6.route": true,
	"veth.vlan.id": true, "veth.vlan.tagged.id": true, "veth.n_rxqueues": true,
	"veth.n_txqueues": true, "script.up": true, "script.down": true, "l2proxy": true,
	"ipvlan.mode": true, "ipvlan.isolation": true,
}

func (s *nativeState) clearNets(e nativeEntry) error {
	if e.value != "" {
		s.warnings.add(e, "must not have a value; ignored")
		return nil
	}
	s.nets = map[uint64]*nativeNet{}
	s.legacyNets = nil
	return nil
}

// setNetKey handles lxc.net.N and lxc.net.N.SUB.
func (s *nativeState) setNetKey(e nativeEntry) error {
	rest := strings.TrimPrefix(e.key, "lxc.net.")
	idx, sub, _ := strings.Cut(rest, ".")
	n, err := strconv.ParseUint(idx, 10, 32)
	if err != nil {
		s.warnUnmapped(e)
		return nil
	}
	if sub == "" {
		if e.value != "" {
			s.warnings.add(e, "must not have a value; ignored")
		}
		delete(s.nets, n)
		return nil
	}
	dev := s.nets[n]
	if dev == nil {
		dev = newNativeNet(e, "lxc.net."+idx+".")
		s.nets[n] = dev
	}
	return s.setNetSub(dev, sub, e)
}

// setLegacyNetKey handles lxc.network.SUB; each lxc.network.type starts a
// new device and the other keys apply to the last one started.
func (s *nativeState) setLegacyNetKey(e nativeEntry) error {
	sub := strings.TrimPrefix(e.key, "lxc.network.")
	if sub == "type" {
		s.legacyNets = append(s.legacyNets, newNativeNet(e, "lxc.network."))
	}
	if len(s.legacyNets) == 0 {
		s.warnings.add(e, "comes before any lxc.network.type; ignored")
		return nil
	}
	return s.setNetSub(s.legacyNets[len(s.legacyNets)-1], sub, e)
}

func (s *nativeState) setNetSub(dev *nativeNet, sub string, e nativeEntry) error {
	switch {
	case nativeNetValueKeys[sub]:
		dev.values[sub] = nativeValue{nativeEntry: e, set: true}
		return nil
	case sub == "ipv4" || sub == "ipv4.address":
		return s.addNetIP(dev, e, false)
	case sub == "ipv6" || sub == "ipv6.address":
		return s.addNetIP(dev, e, true)
	case nativeNetKnownKeys[sub]:
		if sub == "veth.mode" && e.value == "bridge" {
			return nil
		}
		s.warnings.add(e, "no domain XML equivalent; ignored")
	default:
		s.warnings.add(e, "unknown LXC network key; ignored")
	}
	return nil
}

// addNetIP parses ADDRESS/PREFIX [BROADCAST]; an empty value clears the
// device's addresses of that family, as in LXC.
func (s *nativeState) addNetIP(dev *nativeNet, e nativeEntry, v6 bool) error {
	if e.value == "" {
		kept := dev.ips[:0]
		for _, ip := range dev.ips {
			if ip.addr.Is6() != v6 {
				kept = append(kept, ip)
			}
		}
		dev.ips = kept
		return nil
	}
	f := strings.Fields(e.value)
	if len(f) > 1 {
		s.warnings.add(e, "the broadcast address has no domain XML equivalent; ignored")
	}
	addr, prefix, ok := strings.Cut(f[0], "/")
	a, err := netip.ParseAddr(addr)
	if !ok || err != nil || a.Is6() != v6 || a.Zone() != "" {
		return e.errorf(ErrInvalidArg, "invalid CIDR address %q", e.value)
	}
	bits, err := strconv.ParseUint(prefix, 10, 8)
	if err != nil || int(bits) > a.BitLen() {
		return e.errorf(ErrInvalidArg, "invalid CIDR address %q", e.value)
	}
	dev.ips = append(dev.ips, nativeIP{addr: a, prefix: uint(bits)})
	return nil
}

// nativeNetResult is what the devices of a configuration produce.
type nativeNetResult struct {
	devices, none, empty bool
}

// buildNets converts the network devices in index order, legacy devices
// last. No device at all gives <privnet/> (a network namespace with only
// loopback, as LXC creates it); type "none" shares the host's network.
func (s *nativeState) buildNets(def *libvirtxml.Domain) error {
	var devs []*nativeNet
	for _, idx := range nativeSortedKeys(s.nets) {
		devs = append(devs, s.nets[idx])
	}
	devs = append(devs, s.legacyNets...)
	var res nativeNetResult
	for _, dev := range devs {
		if err := s.buildNet(def, dev, &res); err != nil {
			return err
		}
	}
	switch {
	case res.none && res.devices:
		s.warnings.add(nativeEntry{key: "lxc.net"}, "type none is combined with other devices; the container gets its own network namespace")
	case !res.none && !res.devices:
		def.Features.PrivNet = &libvirtxml.DomainFeature{}
	}
	return nil
}

func (s *nativeState) buildNet(def *libvirtxml.Domain, dev *nativeNet, res *nativeNetResult) error {
	t, _ := dev.get("type")
	switch t.value {
	case "":
		if !t.set {
			s.warnings.add(dev.first, "%stype is not set; the device is treated as empty", dev.prefix)
		}
		res.empty = true
	case "empty":
		res.empty = true
	case "none":
		res.none = true
	case "veth", "macvlan":
		iface, err := s.netInterface(dev, t)
		if err != nil {
			return err
		}
		def.Devices.Interfaces = append(def.Devices.Interfaces, iface)
		res.devices = true
	case "phys", "vlan":
		hd, err := s.netHostdev(dev, t)
		if err != nil {
			return err
		}
		def.Devices.Hostdevs = append(def.Devices.Hostdevs, hd)
		res.devices = true
	default:
		s.warnings.add(t.nativeEntry, "network type %q cannot be converted; device ignored", t.value)
	}
	return nil
}

// netInterface converts a veth (bridge when it has a link, ethernet
// without) or macvlan (direct) device.
func (s *nativeState) netInterface(dev *nativeNet, t nativeValue) (libvirtxml.DomainInterface, error) {
	iface := libvirtxml.DomainInterface{Source: &libvirtxml.DomainInterfaceSource{}}
	link, hasLink := dev.get("link")
	switch {
	case t.value == "veth" && hasLink:
		iface.Source.Bridge = &libvirtxml.DomainInterfaceSourceBridge{Bridge: link.value}
	case t.value == "veth":
		iface.Source.Ethernet = &libvirtxml.DomainInterfaceSourceEthernet{}
	case !hasLink:
		return iface, t.errorf(ErrConfigUnsupported, "missing %slink for a macvlan device", dev.prefix)
	default:
		iface.Source.Direct = &libvirtxml.DomainInterfaceSourceDirect{Dev: link.value, Mode: s.macvlanMode(dev)}
	}
	iface.MAC = s.netMAC(dev)
	iface.IP, iface.Route = s.netIPs(dev)
	if v, ok := dev.get("name"); ok {
		iface.Guest = &libvirtxml.DomainInterfaceGuest{Dev: v.value}
	}
	if v, ok := dev.get("veth.pair"); ok {
		if t.value == "veth" {
			iface.Target = &libvirtxml.DomainInterfaceTarget{Dev: v.value}
		} else {
			s.warnings.add(v.nativeEntry, "only applies to veth devices; ignored")
		}
	}
	iface.Link = &libvirtxml.DomainInterfaceLink{State: "down"}
	if v, ok := dev.get("flags"); ok {
		if v.value != "up" {
			s.warnings.add(v.nativeEntry, "LXC brings the device up for any flags value, %q too", v.value)
		}
		iface.Link.State = "up"
	}
	mtu, err := s.netMTU(dev)
	iface.MTU = mtu
	return iface, err
}

func (s *nativeState) macvlanMode(dev *nativeNet) string {
	v, ok := dev.get("macvlan.mode")
	switch {
	case !ok:
		return "private"
	case v.value == "private" || v.value == "vepa" || v.value == "bridge":
		return v.value
	case v.value == "passthru":
		return "passthrough"
	}
	s.warnings.add(v.nativeEntry, "unknown macvlan mode %q; using private", v.value)
	return "private"
}

// netMAC parses the hardware address. LXC fills 'x' digits with random
// ones; such an address is left for the driver to generate.
func (s *nativeState) netMAC(dev *nativeNet) *libvirtxml.DomainInterfaceMAC {
	v, ok := dev.get("hwaddr")
	if !ok {
		return nil
	}
	parts := strings.Split(v.value, ":")
	if len(parts) != 6 {
		s.warnings.add(v.nativeEntry, "invalid MAC address %q; ignored", v.value)
		return nil
	}
	for i, p := range parts {
		b, err := strconv.ParseUint(p, 16, 8)
		if len(p) != 2 || err != nil {
			if strings.ContainsAny(p, "xX") {
				s.warnings.add(v.nativeEntry, "random MAC address parts in %q; a MAC address will be generated", v.value)
			} else {
				s.warnings.add(v.nativeEntry, "invalid MAC address %q; ignored", v.value)
			}
			return nil
		}
		parts[i] = strconv.FormatUint(b|0x100, 16)[1:]
	}
	return &libvirtxml.DomainInterfaceMAC{Address: strings.Join(parts, ":")}
}

func (s *nativeState) netMTU(dev *nativeNet) (*libvirtxml.DomainInterfaceMTU, error) {
	v, ok := dev.get("mtu")
	if !ok {
		return nil, nil
	}
	n, err := strconv.ParseUint(v.value, 10, 32)
	if err != nil || n == 0 {
		return nil, v.errorf(ErrInvalidArg, "invalid MTU %q", v.value)
	}
	return &libvirtxml.DomainInterfaceMTU{Size: uint(n)}, nil
}

// netIPs returns the device's addresses and its gateways as default
// routes ("auto" and "dev" gateways depend on the host and are dropped).
func (s *nativeState) netIPs(dev *nativeNet) ([]libvirtxml.DomainInterfaceIP, []libvirtxml.DomainInterfaceRoute) {
	var ips []libvirtxml.DomainInterfaceIP
	for _, ip := range dev.ips {
		ips = append(ips, libvirtxml.DomainInterfaceIP{Address: ip.addr.String(), Family: nativeFamily(ip.addr), Prefix: ip.prefix})
	}
	var routes []libvirtxml.DomainInterfaceRoute
	for _, gw := range s.netGateways(dev) {
		any := "0.0.0.0"
		if gw.Is6() {
			any = "::"
		}
		routes = append(routes, libvirtxml.DomainInterfaceRoute{Family: nativeFamily(gw), Address: any, Gateway: gw.String()})
	}
	return ips, routes
}

func (s *nativeState) netGateways(dev *nativeNet) []netip.Addr {
	var gws []netip.Addr
	for _, sub := range []string{"ipv4.gateway", "ipv6.gateway"} {
		v, ok := dev.get(sub)
		if !ok {
			continue
		}
		if v.value == "auto" || v.value == "dev" {
			s.warnings.add(v.nativeEntry, "gateway %q depends on the host; no route added", v.value)
			continue
		}
		a, err := netip.ParseAddr(v.value)
		if err != nil || a.Is6() != (sub == "ipv6.gateway") || a.Zone() != "" {
			s.warnings.add(v.nativeEntry, "invalid gateway %q; no route added", v.value)
			continue
		}
		gws = append(gws, a)
	}
	return gws
}

func nativeFamily(a netip.Addr) string {
	if a.Is6() {
		return "ipv6"
	}
	return "ipv4"
}

// netHostdev converts a phys device, or a vlan device as the host's
// LINK.VLANID interface, into a hostdev that moves it into the container.
func (s *nativeState) netHostdev(dev *nativeNet, t nativeValue) (libvirtxml.DomainHostdev, error) {
	link, ok := dev.get("link")
	if !ok {
		return libvirtxml.DomainHostdev{}, t.errorf(ErrConfigUnsupported, "missing %slink for a %s device", dev.prefix, t.value)
	}
	ifname := link.value
	if id, ok := dev.get("vlan.id"); ok && t.value == "vlan" {
		ifname += "." + id.value
	}
	caps := &libvirtxml.DomainHostdevCapsNet{Source: &libvirtxml.DomainHostdevCapsNetSource{Interface: ifname}}
	ips, routes := s.netIPs(dev)
	for _, ip := range ips {
		prefix := ip.Prefix
		caps.IP = append(caps.IP, libvirtxml.DomainIP{Address: ip.Address, Family: ip.Family, Prefix: &prefix})
	}
	for _, r := range routes {
		caps.Route = append(caps.Route, libvirtxml.DomainRoute{Family: r.Family, Address: r.Address, Gateway: r.Gateway})
	}
	for _, sub := range []string{"name", "hwaddr", "mtu", "veth.pair", "macvlan.mode"} {
		if v, ok := dev.get(sub); ok {
			s.warnings.add(v.nativeEntry, "not supported for a %s device moved into the container; ignored", t.value)
		}
	}
	return libvirtxml.DomainHostdev{CapsNet: caps}, nil
}
