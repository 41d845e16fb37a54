package xmlconf

import (
	"net/netip"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// writeNets writes interfaces (bridge and ethernet as veth, direct as
// macvlan) and moved host interfaces (phys) as lxc.net.N.* devices. With
// none, "empty" keeps a private network namespace (<privnet/>, or devices
// that could not be converted) and "none" shares the host's, as libvirt
// does without either.
func (w *nativeWriter) writeNets() error {
	devs := w.devices()
	idx := 0
	private := len(devs.Interfaces) > 0
	for _, iface := range devs.Interfaces {
		ok, err := w.writeInterface(idx, iface)
		if err != nil {
			return err
		}
		if ok {
			idx++
		}
	}
	for _, hd := range devs.Hostdevs {
		if hd.CapsNet == nil {
			continue
		}
		private = true
		if err := w.writePhys(idx, hd.CapsNet); err != nil {
			return err
		}
		idx++
	}
	if idx > 0 {
		return nil
	}
	if ns := w.def.LXCNamespace; ns != nil && ns.ShareNet != nil {
		private = true
	}
	if private || (w.def.Features != nil && w.def.Features.PrivNet != nil) {
		return w.set("lxc.net.0.type", "empty")
	}
	return w.set("lxc.net.0.type", "none")
}

// nativeNetLines collects the keys of one device.
type nativeNetLines struct {
	w      *nativeWriter
	prefix string
	err    error
}

func (l *nativeNetLines) set(sub, value string) {
	if l.err == nil && value != "" {
		l.err = l.w.set(l.prefix+sub, value)
	}
}

// nativeMacvlanModes maps libvirt's direct modes to LXC's macvlan modes;
// libvirt's default mode is vepa.
var nativeMacvlanModes = map[string]string{
	"": "vepa", "vepa": "vepa", "bridge": "bridge", "private": "private", "passthrough": "passthru",
}

func (w *nativeWriter) writeInterface(idx int, iface libvirtxml.DomainInterface) (bool, error) {
	src := iface.Source
	l := &nativeNetLines{w: w, prefix: "lxc.net." + strconv.Itoa(idx) + "."}
	switch {
	case src != nil && src.Bridge != nil:
		l.set("type", "veth")
		l.set("link", src.Bridge.Bridge)
	case src != nil && src.Ethernet != nil:
		l.set("type", "veth")
		if len(src.Ethernet.IP)+len(src.Ethernet.Route) > 0 {
			w.note("host-side addresses and routes of an ethernet interface are not converted")
		}
	case src != nil && src.Direct != nil:
		mode, ok := nativeMacvlanModes[src.Direct.Mode]
		if !ok {
			w.note("<interface type='direct'> mode %s has no macvlan equivalent; not converted", src.Direct.Mode)
			return false, nil
		}
		l.set("type", "macvlan")
		l.set("link", src.Direct.Dev)
		l.set("macvlan.mode", mode)
	case src != nil && src.Network != nil:
		w.note("<interface type='network'> (network %q): its bridge is chosen when the domain starts; not converted", src.Network.Network)
		return false, nil
	default:
		w.note("<interface> of this type has no LXC equivalent; not converted")
		return false, nil
	}
	w.writeIfaceDetails(l, iface, src.Bridge != nil || src.Ethernet != nil)
	return true, l.err
}

// writeIfaceDetails writes the MAC, names, MTU, state and addresses. The
// device is up when libvirt would bring it up: with addresses or
// <link state='up'/>.
func (w *nativeWriter) writeIfaceDetails(l *nativeNetLines, iface libvirtxml.DomainInterface, veth bool) {
	if iface.MAC != nil {
		l.set("hwaddr", iface.MAC.Address)
	}
	if iface.Guest != nil {
		l.set("name", iface.Guest.Dev)
	}
	if iface.Target != nil && veth {
		l.set("veth.pair", iface.Target.Dev)
	}
	if iface.MTU != nil && iface.MTU.Size > 0 {
		l.set("mtu", strconv.FormatUint(uint64(iface.MTU.Size), 10))
	}
	if len(iface.IP) > 0 || (iface.Link != nil && iface.Link.State == "up") {
		l.set("flags", "up")
	}
	var addrs []nativeAddr
	for _, ip := range iface.IP {
		addrs = append(addrs, nativeAddr{ip.Address, ip.Family, ip.Prefix, ip.Peer})
	}
	var routes []nativeRoute
	for _, r := range iface.Route {
		routes = append(routes, nativeRoute{r.Family, r.Address, r.Netmask, r.Prefix, r.Gateway})
	}
	w.writeAddrs(l, addrs, routes)
	if iface.Bandwidth != nil || iface.FilterRef != nil || iface.VirtualPort != nil || iface.Script != nil {
		w.note("%s: bandwidth, filterref, virtualport and script are not converted", l.prefix)
	}
}

// writePhys writes a moved host interface as a phys device.
func (w *nativeWriter) writePhys(idx int, caps *libvirtxml.DomainHostdevCapsNet) error {
	l := &nativeNetLines{w: w, prefix: "lxc.net." + strconv.Itoa(idx) + "."}
	l.set("type", "phys")
	if caps.Source != nil {
		l.set("link", caps.Source.Interface)
	}
	var addrs []nativeAddr
	for _, ip := range caps.IP {
		var prefix uint
		if ip.Prefix != nil {
			prefix = *ip.Prefix
		}
		addrs = append(addrs, nativeAddr{ip.Address, ip.Family, prefix, ""})
	}
	if len(addrs) > 0 {
		l.set("flags", "up")
	}
	var routes []nativeRoute
	for _, r := range caps.Route {
		routes = append(routes, nativeRoute{family: r.Family, address: r.Address, gateway: r.Gateway})
	}
	w.writeAddrs(l, addrs, routes)
	return l.err
}

// nativeAddr and nativeRoute are the guest addresses and routes of an
// interface or a moved host interface.
type nativeAddr struct {
	address, family string
	prefix          uint
	peer            string
}

type nativeRoute struct {
	family, address, netmask string
	prefix                   uint
	gateway                  string
}

// writeAddrs writes ADDRESS/PREFIX lines and, for default routes, one
// gateway per family; other routes and peers are noted.
func (w *nativeWriter) writeAddrs(l *nativeNetLines, addrs []nativeAddr, routes []nativeRoute) {
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a.address)
		if err != nil {
			w.note("%s: address %q is not an IP address; not converted", strings.TrimSuffix(l.prefix, "."), a.address)
			continue
		}
		l.set(nativeFamily(ip)+".address", ip.String()+"/"+strconv.FormatUint(uint64(nativeDefaultPrefix(ip, a.prefix)), 10))
		if a.peer != "" {
			w.note("%s: peer %s of %s is not converted", strings.TrimSuffix(l.prefix, "."), a.peer, a.address)
		}
	}
	done := map[bool]bool{}
	for _, r := range routes {
		gw, err := netip.ParseAddr(r.gateway)
		if err != nil || !nativeDefaultRoute(r) || done[gw.Is6()] {
			w.note("%s: route to %s via %s is not converted (LXC only sets a default gateway)", strings.TrimSuffix(l.prefix, "."), r.address, r.gateway)
			continue
		}
		done[gw.Is6()] = true
		l.set(nativeFamily(gw)+".gateway", gw.String())
	}
}

// nativeDefaultPrefix is libvirt's prefix for an address without one:
// the class of an IPv4 address, 64 for IPv6.
func nativeDefaultPrefix(ip netip.Addr, prefix uint) uint {
	switch {
	case prefix > 0:
		return prefix
	case ip.Is6():
		return 64
	case ip.As4()[0] < 128:
		return 8
	case ip.As4()[0] < 192:
		return 16
	case ip.As4()[0] < 224:
		return 24
	}
	return 32
}

func nativeDefaultRoute(r nativeRoute) bool {
	if r.prefix != 0 || (r.netmask != "" && r.netmask != "0.0.0.0") {
		return false
	}
	if r.address == "" {
		return true
	}
	a, err := netip.ParseAddr(r.address)
	return err == nil && a.IsUnspecified()
}
