package xmlconf

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// Interface types of InterfaceSpec.
const (
	IfaceBridge   = "bridge"   // veth pair, host end on a bridge
	IfaceNetwork  = "network"  // veth pair on a libvirt network's bridge
	IfaceEthernet = "ethernet" // veth pair, no bridge
	IfaceDirect   = "direct"   // macvlan on a host device
	// IfaceHostdevNet is a host interface moved into the container,
	// <hostdev mode='capabilities' type='net'>.
	IfaceHostdevNet = "hostdev-net"
)

// InterfaceSpec is what the driver needs to set up one network interface
// of a container, taken from an <interface> (or a <hostdev
// mode='capabilities' type='net'>) and checked against what libvirt's LXC
// driver supports.
type InterfaceSpec struct {
	// Type is one of the Iface constants.
	Type string
	// Bridge is the host bridge of a bridge interface.
	Bridge string
	// Network and PortGroup name the libvirt network of a network
	// interface.
	Network, PortGroup string
	// SourceDev is the host device of a direct interface, or the host
	// interface a hostdev-net moves into the container.
	SourceDev string
	// Mode is a direct interface's macvlan mode (vepa when not given).
	Mode string
	// VirtualPort is the <virtualport type>, "openvswitch" for an Open
	// vSwitch bridge.
	VirtualPort string
	// TargetDev is the host-side name (<target dev>); empty means the
	// driver chooses one.
	TargetDev string
	// GuestDev is the name inside the container (<guest dev>); empty
	// means eth0, eth1, ... in order.
	GuestDev string
	// MAC is the container-side MAC address in libvirt's form; empty when
	// the definition has none yet (see FillInterfaceDefaults).
	MAC string
	// MTU is the interface MTU, 0 for the default.
	MTU uint
	// LinkState is <link state>, "up", "down" or "".
	LinkState string
	// IPs and Routes are configured inside the container.
	IPs    []InterfaceIP
	Routes []InterfaceRoute
	// HostIPs and HostRoutes are an ethernet interface's host-side
	// addresses and routes (<source><ip/><route/></source>).
	HostIPs    []InterfaceIP
	HostRoutes []InterfaceRoute
}

// InterfaceIP is an address of an interface.
type InterfaceIP struct {
	// Prefix is the address with its prefix length; a missing prefix is
	// libvirt's default (the address class for IPv4, 64 for IPv6).
	Prefix netip.Prefix
	// Peer is the point-to-point peer, if any.
	Peer netip.Addr
}

// InterfaceRoute is a route of an interface.
type InterfaceRoute struct {
	// Destination is the network routed.
	Destination netip.Prefix
	Gateway     netip.Addr
	// Metric is the route metric, 0 for none.
	Metric uint
}

// InterfaceType returns the type of an <interface> ("bridge", "user",
// ...), "" when it has none.
func InterfaceType(iface *libvirtxml.DomainInterface) string {
	s := iface.Source
	if s == nil {
		return ""
	}
	for _, t := range []struct {
		set  bool
		name string
	}{
		{s.Bridge != nil, "bridge"}, {s.Network != nil, "network"}, {s.Ethernet != nil, "ethernet"},
		{s.Direct != nil, "direct"}, {s.User != nil, "user"}, {s.VHostUser != nil, "vhostuser"},
		{s.Server != nil, "server"}, {s.Client != nil, "client"}, {s.MCast != nil, "mcast"},
		{s.Internal != nil, "internal"}, {s.Hostdev != nil, "hostdev"}, {s.UDP != nil, "udp"},
		{s.VDPA != nil, "vdpa"}, {s.Null != nil, "null"}, {s.VDS != nil, "vds"},
	} {
		if t.set {
			return t.name
		}
	}
	return ""
}

// InterfaceSpecOf checks iface as libvirt's LXC driver does when it sets
// up interfaces and returns what the driver needs. Types other than
// bridge, network, ethernet and direct give libvirt's "Unsupported
// network type" error; a missing source, an invalid address or route, a
// script, or bandwidth or a virtual port on a direct interface are
// errors too. A route without a prefix gets libvirt's default; use
// DomainInterfaceSpecs to honour prefix='0' on routes to non-zero
// destinations.
func InterfaceSpecOf(iface *libvirtxml.DomainInterface) (InterfaceSpec, error) {
	return interfaceSpec(iface, nil, nil)
}

// DomainInterfaceSpecs returns the specs of all network devices of d:
// its interfaces, then its capabilities net host devices, in document
// order.
func DomainInterfaceSpecs(d *Domain) ([]InterfaceSpec, error) {
	if d == nil || d.Def == nil || d.Def.Devices == nil {
		return nil, nil
	}
	var out []InterfaceSpec
	for i := range d.Def.Devices.Interfaces {
		iface := &d.Def.Devices.Interfaces[i]
		spec, err := interfaceSpec(iface, d.InterfaceRoutes(iface), d.HostRoutes(iface))
		if err != nil {
			return nil, err
		}
		out = append(out, spec)
	}
	for i := range d.Def.Devices.Hostdevs {
		h := &d.Def.Devices.Hostdevs[i]
		if h.CapsNet == nil {
			continue
		}
		spec, err := hostdevNetSpec(h, d.HostdevRoutes(h))
		if err != nil {
			return nil, err
		}
		out = append(out, spec)
	}
	return out, nil
}

// interfaceSpec implements InterfaceSpecOf; routes and hostRoutes, when
// given, are the interface's routes with their real prefixes.
func interfaceSpec(iface *libvirtxml.DomainInterface, routes, hostRoutes []Route) (InterfaceSpec, error) {
	typ := InterfaceType(iface)
	spec := InterfaceSpec{Type: typ}
	if err := interfaceSource(iface, &spec); err != nil {
		return InterfaceSpec{}, err
	}
	if iface.Script != nil {
		return InterfaceSpec{}, errf(ErrConfigUnsupported, "scripts are not supported on LXC network interfaces")
	}
	if iface.MAC != nil && iface.MAC.Address != "" {
		mac, multicast, ok := parseMAC(iface.MAC.Address)
		if !ok {
			return InterfaceSpec{}, errf(ErrInternal, "unable to parse mac address '%s'", iface.MAC.Address)
		}
		if multicast {
			return InterfaceSpec{}, errf(ErrXML, "expected unicast mac address, found multicast '%s'", iface.MAC.Address)
		}
		spec.MAC = mac
	}
	if iface.Target != nil {
		spec.TargetDev = iface.Target.Dev
	}
	if iface.Guest != nil {
		spec.GuestDev = iface.Guest.Dev
	}
	if iface.MTU != nil {
		spec.MTU = iface.MTU.Size
	}
	if iface.Link != nil {
		spec.LinkState = iface.Link.State
	}
	if iface.VirtualPort != nil && iface.VirtualPort.Params != nil && iface.VirtualPort.Params.OpenVSwitch != nil {
		spec.VirtualPort = "openvswitch"
	}
	var err error
	if spec.IPs, err = interfaceIPs(iface.IP); err != nil {
		return InterfaceSpec{}, err
	}
	if routes == nil {
		routes = plainRoutes(iface.Route)
	}
	if spec.Routes, err = interfaceRoutes(routes); err != nil {
		return InterfaceSpec{}, err
	}
	if eth := iface.Source.Ethernet; eth != nil {
		if spec.HostIPs, err = interfaceIPs(eth.IP); err != nil {
			return InterfaceSpec{}, err
		}
		if hostRoutes == nil {
			hostRoutes = plainRoutes(eth.Route)
		}
		if spec.HostRoutes, err = interfaceRoutes(hostRoutes); err != nil {
			return InterfaceSpec{}, err
		}
	}
	return spec, nil
}

// interfaceSource fills in the source of spec by interface type.
func interfaceSource(iface *libvirtxml.DomainInterface, spec *InterfaceSpec) error {
	src := iface.Source
	switch spec.Type {
	case IfaceBridge:
		if src.Bridge.Bridge == "" {
			return errf(ErrXML, "No <source> 'bridge' attribute specified with <interface type='bridge'/>")
		}
		spec.Bridge = src.Bridge.Bridge
	case IfaceNetwork:
		if src.Network.Network == "" {
			return errf(ErrXML, "No <source> 'network' attribute specified with <interface type='network'/>")
		}
		spec.Network, spec.PortGroup = src.Network.Network, src.Network.PortGroup
	case IfaceEthernet:
	case IfaceDirect:
		if src.Direct.Dev == "" {
			return errf(ErrXML, "No <source> 'dev' attribute specified with <interface type='direct'/>")
		}
		if iface.Bandwidth != nil {
			return errf(ErrConfigUnsupported, "Unable to set network bandwidth on direct interfaces")
		}
		if iface.VirtualPort != nil {
			return errf(ErrConfigUnsupported, "Unable to set port profile on direct interfaces")
		}
		spec.SourceDev, spec.Mode = src.Direct.Dev, src.Direct.Mode
		if spec.Mode == "" {
			spec.Mode = "vepa"
		}
	case "":
		return errf(ErrXML, "missing interface type")
	default:
		return errf(ErrConfigUnsupported, "Unsupported network type %s", spec.Type)
	}
	return nil
}

// hostdevNetSpec returns the spec of a capabilities net host device.
func hostdevNetSpec(h *libvirtxml.DomainHostdev, routes []Route) (InterfaceSpec, error) {
	spec := InterfaceSpec{Type: IfaceHostdevNet}
	if h.CapsNet.Source == nil || h.CapsNet.Source.Interface == "" {
		return InterfaceSpec{}, errf(ErrXML, "Missing <interface> element in hostdev net device")
	}
	spec.SourceDev = h.CapsNet.Source.Interface
	for _, ip := range h.CapsNet.IP {
		prefix := uint(0)
		if ip.Prefix != nil {
			prefix = *ip.Prefix
		}
		ips, err := interfaceIPs([]libvirtxml.DomainInterfaceIP{{Address: ip.Address, Family: ip.Family, Prefix: prefix}})
		if err != nil {
			return InterfaceSpec{}, err
		}
		spec.IPs = append(spec.IPs, ips...)
	}
	var err error
	if spec.Routes, err = interfaceRoutes(routes); err != nil {
		return InterfaceSpec{}, err
	}
	return spec, nil
}

// interfaceIPs checks and converts interface addresses.
func interfaceIPs(in []libvirtxml.DomainInterfaceIP) ([]InterfaceIP, error) {
	var out []InterfaceIP
	for _, ip := range in {
		a, err := parseIP(ip.Address, ip.Family)
		if err != nil {
			return nil, err
		}
		if ip.Prefix > maxPrefix(a) {
			return nil, errf(ErrXML, "Invalid prefix value '%d' in <ip>", ip.Prefix)
		}
		bits := ipPrefixLen(a, "", ip.Prefix)
		if bits < 0 {
			return nil, errf(ErrInternal, "Failed to determine prefix for IP address '%s'", a)
		}
		one := InterfaceIP{Prefix: netip.PrefixFrom(a, bits)}
		if ip.Peer != "" {
			peer, err := netip.ParseAddr(ip.Peer)
			if err != nil || peer.Is4() != a.Is4() {
				return nil, errf(ErrInvalidArg, "Invalid peer '%s' in <ip>", ip.Peer)
			}
			one.Peer = peer
		}
		out = append(out, one)
	}
	return out, nil
}

// plainRoutes converts model routes, whose prefix='0' cannot be told from
// no prefix.
func plainRoutes(in []libvirtxml.DomainInterfaceRoute) []Route {
	var out []Route
	for _, r := range in {
		out = append(out, Route{Family: r.Family, Address: r.Address, Netmask: r.Netmask, Gateway: r.Gateway,
			Prefix: r.Prefix, HasPrefix: r.Prefix > 0, Metric: r.Metric, HasMetric: r.Metric > 0})
	}
	return out
}

// interfaceRoutes checks and converts interface routes.
func interfaceRoutes(in []Route) ([]InterfaceRoute, error) {
	var out []InterfaceRoute
	for _, r := range in {
		address, err := routeAddr(r.Address, "address", "network")
		if err != nil {
			return nil, err
		}
		gateway, err := routeAddr(r.Gateway, "gateway", "gateway")
		if err != nil {
			return nil, err
		}
		dest, gw := netip.MustParseAddr(address), netip.MustParseAddr(gateway)
		if dest.Is4() != gw.Is4() {
			return nil, errf(ErrXML, "Domain interface: Invalid gateway '%s' for network address '%s' in route definition", r.Gateway, r.Address)
		}
		bits := ipPrefixLen(dest, r.Netmask, r.Prefix)
		if r.HasPrefix {
			bits = int(r.Prefix)
		}
		if bits < 0 || bits > dest.BitLen() {
			return nil, errf(ErrXML, "Domain interface: Invalid prefix specified in route definition")
		}
		out = append(out, InterfaceRoute{Destination: netip.PrefixFrom(dest, bits).Masked(), Gateway: gw, Metric: r.Metric})
	}
	return out, nil
}

// ValidateInterfaces checks every interface of def with InterfaceSpecOf,
// and that no two interfaces (host devices included) have the same MAC
// address or the same container-side name.
func ValidateInterfaces(def *libvirtxml.Domain) error {
	if def == nil || def.Devices == nil {
		return nil
	}
	macs := map[string]bool{}
	guests := map[string]bool{}
	for i := range def.Devices.Interfaces {
		spec, err := InterfaceSpecOf(&def.Devices.Interfaces[i])
		if err != nil {
			return err
		}
		if spec.MAC != "" {
			if macs[spec.MAC] {
				return errf(ErrInvalidArg, "network device with mac %s already exists", spec.MAC)
			}
			macs[spec.MAC] = true
		}
		if spec.GuestDev != "" {
			if guests[spec.GuestDev] {
				return errf(ErrConfigUnsupported, "network device with guest name %s already exists", spec.GuestDev)
			}
			guests[spec.GuestDev] = true
		}
	}
	return nil
}

// CheckInterfaceAttach checks that iface can be added to def: it must be
// a supported interface, and its MAC address must not be in use.
func CheckInterfaceAttach(def *libvirtxml.Domain, iface *libvirtxml.DomainInterface) error {
	spec, err := InterfaceSpecOf(iface)
	if err != nil {
		return err
	}
	if def == nil || def.Devices == nil || spec.MAC == "" {
		return nil
	}
	for i := range def.Devices.Interfaces {
		if m := def.Devices.Interfaces[i].MAC; m != nil {
			if mac, _, _ := parseMAC(m.Address); mac == spec.MAC {
				return errf(ErrInvalidArg, "network device with mac %s already exists", spec.MAC)
			}
		}
	}
	return nil
}

// parseMAC reads a MAC address as libvirt's virMacAddrParse does (six
// groups of one or two hex digits separated by colons) and returns it in
// libvirt's form, lower case with two digits a group, and whether it is a
// multicast address.
func parseMAC(s string) (mac string, multicast, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return "", false, false
	}
	out := make([]string, 6)
	for i, p := range parts {
		if p == "" || len(p) > 2 || !isHex(p) {
			return "", false, false
		}
		v, _ := strconv.ParseUint(p, 16, 8)
		if i == 0 {
			multicast = v&1 != 0
		}
		out[i] = fmt.Sprintf("%02x", v)
	}
	return strings.Join(out, ":"), multicast, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if _, ok := hexValue(s[i]); !ok {
			return false
		}
	}
	return true
}

// FillInterfaceDefaults gives every interface of def without a MAC
// address a generated one (52:54:00 and three bytes from rnd, or from
// crypto/rand when rnd is nil), different from those already in def, as
// libvirt does when it parses a definition or a device. ParseDomain
// already does this for whole definitions; use it for definitions built
// in code and for devices to be attached (ParseDeviceInterface leaves the
// MAC address out when the document has none).
func FillInterfaceDefaults(def *libvirtxml.Domain, rnd io.Reader) {
	if def == nil || def.Devices == nil {
		return
	}
	used := map[string]bool{}
	for _, iface := range def.Devices.Interfaces {
		if iface.MAC != nil {
			if mac, _, ok := parseMAC(iface.MAC.Address); ok {
				used[mac] = true
			}
		}
	}
	for i := range def.Devices.Interfaces {
		iface := &def.Devices.Interfaces[i]
		if iface.MAC != nil && iface.MAC.Address != "" {
			continue
		}
		mac := GenerateMAC(rnd)
		for tries := 0; used[mac] && tries < 100; tries++ {
			mac = GenerateMAC(rnd)
		}
		used[mac] = true
		iface.MAC = &libvirtxml.DomainInterfaceMAC{Address: mac}
	}
}

// GenerateMAC returns a random MAC address with libvirt's prefix
// 52:54:00, reading three bytes from rnd (crypto/rand when rnd is nil or
// fails).
func GenerateMAC(rnd io.Reader) string {
	var b [3]byte
	readRandom(rnd, b[:])
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", b[0], b[1], b[2])
}

// readRandom fills b from rnd, falling back to crypto/rand.
func readRandom(rnd io.Reader, b []byte) {
	if rnd != nil {
		if _, err := io.ReadFull(rnd, b); err == nil {
			return
		}
	}
	_, _ = rand.Read(b)
}

// deviceURL names device documents in parser messages, as libvirt does.
const deviceURL = "(device_definition)"

// ParseDeviceInterface reads an <interface> document, as given to
// virDomainAttachDeviceFlags, virDomainDetachDeviceFlags and
// virDomainUpdateDeviceFlags, with the checks libvirt's parser makes on
// interfaces in a domain definition. Other devices give an
// ErrConfigUnsupported error. Unlike libvirt it does not generate a MAC
// address when there is none, so that a detach request can be told from
// one with an address; FillInterfaceDefaults does that for an attach.
// Elements and attributes the schema does not know are dropped.
func ParseDeviceInterface(doc []byte) (*libvirtxml.DomainInterface, error) {
	root, err := parseTree(doc, deviceURL)
	if err != nil {
		return nil, err
	}
	if root.space != "" || root.local != "interface" {
		return nil, errf(ErrConfigUnsupported, "unsupported device type '%s': only <interface> is handled here", root.qname())
	}
	hasMAC := false
	if m := root.child("mac"); m != nil {
		v, ok := m.attr("address")
		hasMAC = ok && v != ""
	}
	wrapper := "<domain type='lxc'><name>device</name><memory unit='KiB'>1024</memory><os><type>exe</type>" +
		"<init>/sbin/init</init></os><devices>" + string(root.xmlText()) + "</devices></domain>"
	d, _, err := ParseDomain([]byte(wrapper), ParseOptions{SkipValidate: true})
	if err != nil {
		return nil, err
	}
	if len(d.Def.Devices.Interfaces) != 1 {
		return nil, errf(ErrXML, "no interface found in the device definition")
	}
	iface := d.Def.Devices.Interfaces[0]
	if !hasMAC {
		iface.MAC = nil
	}
	return &iface, nil
}

// FormatDeviceInterface writes iface as libvirt writes an <interface> of
// a domain, at the top level (no indentation), for ParseDeviceInterface
// to read back.
func FormatDeviceInterface(iface *libvirtxml.DomainInterface) (string, error) {
	if iface == nil {
		return "", errf(ErrInternal, "no interface to format")
	}
	d := &Domain{Def: &libvirtxml.Domain{Devices: &libvirtxml.DomainDeviceList{
		Interfaces: []libvirtxml.DomainInterface{*iface},
	}}}
	root, err := modelTree(d)
	if err != nil {
		return "", err
	}
	orderAttrs(root)
	orderChildren(root)
	n := nodePath(root, "devices", "interface")
	if n == nil {
		return "", errf(ErrInternal, "encode the interface")
	}
	var b strings.Builder
	writeNode(&b, n, 0)
	return b.String(), nil
}

// FindInterface returns the index in def of the interface a detach or
// update request names, as libvirt's virDomainNetFindIdx does: by MAC
// address when the request has one, narrowed by alias when both have one.
// Without a MAC address the request must name the same type and source
// (libvirt would take any interface). No match is an ErrDeviceMissing
// error, more than one an ErrOperationFailed error, worded as libvirt's.
func FindInterface(def *libvirtxml.Domain, want *libvirtxml.DomainInterface) (int, error) {
	macStr := "(<null>)"
	mac := ""
	if want.MAC != nil && want.MAC.Address != "" {
		m, _, ok := parseMAC(want.MAC.Address)
		if !ok {
			return -1, errf(ErrInternal, "unable to parse mac address '%s'", want.MAC.Address)
		}
		mac, macStr = m, m
	}
	match := -1
	var ifaces []libvirtxml.DomainInterface
	if def != nil && def.Devices != nil {
		ifaces = def.Devices.Interfaces
	}
	for i := range ifaces {
		if !interfaceMatches(&ifaces[i], want, mac) {
			continue
		}
		if match >= 0 {
			if mac != "" {
				return -1, errf(ErrOperationFailed, "multiple devices matching MAC address %s found", macStr)
			}
			return -1, errf(ErrOperationFailed, "multiple matching devices found")
		}
		match = i
	}
	if match < 0 {
		if want.Alias != nil && want.Alias.Name != "" {
			return -1, errf(ErrDeviceMissing, "no device matching MAC address %s found on alias %s", macStr, want.Alias.Name)
		}
		return -1, errf(ErrDeviceMissing, "no device matching MAC address %s found", macStr)
	}
	return match, nil
}

// interfaceMatches reports whether have is the interface want names.
func interfaceMatches(have, want *libvirtxml.DomainInterface, mac string) bool {
	if mac != "" {
		if have.MAC == nil {
			return false
		}
		if m, _, _ := parseMAC(have.MAC.Address); m != mac {
			return false
		}
	}
	if want.Alias != nil && have.Alias != nil && want.Alias.Name != "" && have.Alias.Name != want.Alias.Name {
		return false
	}
	if mac != "" {
		return true
	}
	if t := InterfaceType(want); t != "" && t != InterfaceType(have) {
		return false
	}
	src := interfaceSourceName(want)
	return src == "" || src == interfaceSourceName(have)
}

// interfaceSourceName names what an interface is connected to: its
// bridge, network or host device.
func interfaceSourceName(iface *libvirtxml.DomainInterface) string {
	s := iface.Source
	switch {
	case s == nil:
		return ""
	case s.Bridge != nil:
		return s.Bridge.Bridge
	case s.Network != nil:
		return s.Network.Network
	case s.Direct != nil:
		return s.Direct.Dev
	}
	return ""
}
