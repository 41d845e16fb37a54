package xmlconf

import (
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// completeDevices applies the per-device post-parse rules of libvirt and
// of the LXC driver.
func completeDevices(d *Domain) error {
	devs := d.Def.Devices
	if len(devs.Memorydevs) > 0 {
		return errf(ErrConfigUnsupported, "memory devices are not supported by this driver")
	}
	completeConsoles(devs.Consoles)
	for i := range devs.Disks {
		completeDisk(&devs.Disks[i])
	}
	for i := range devs.Filesystems {
		if err := completeFilesystem(&devs.Filesystems[i]); err != nil {
			return err
		}
	}
	for i := range devs.Interfaces {
		if err := completeInterface(&devs.Interfaces[i]); err != nil {
			return err
		}
	}
	for i := range devs.Hostdevs {
		if err := completeHostdev(&devs.Hostdevs[i]); err != nil {
			return err
		}
	}
	return nil
}

// completeConsoles gives consoles without a target type the type lxc (the
// LXC driver's device callback) and numbers those without a port after the
// highest port in use (virDomainChrDefPostParse).
func completeConsoles(consoles []libvirtxml.DomainConsole) {
	next := uint(0) // one more than the highest port in use
	for _, c := range consoles {
		if c.Target != nil && c.Target.Port != nil && *c.Target.Port+1 > next {
			next = *c.Target.Port + 1
		}
	}
	for i := range consoles {
		c := &consoles[i]
		if c.Target == nil {
			c.Target = &libvirtxml.DomainConsoleTarget{}
		}
		if c.Target.Type == "" || c.Target.Type == "none" {
			c.Target.Type = "lxc"
		}
		if c.Target.Port == nil {
			port := next
			c.Target.Port = &port
			next++
		}
	}
}

// diskBusPrefixes give a disk's bus from its target name when it names
// none (virDomainDiskDefPostParse).
var diskBusPrefixes = []struct{ prefix, bus string }{
	{"hd", "ide"}, {"sd", "scsi"}, {"vd", "virtio"}, {"xvd", "xen"}, {"ubd", "uml"}, {"nvme", "nvme"},
}

// completeDisk fills in a disk's bus and makes CD-ROMs read-only.
func completeDisk(disk *libvirtxml.DomainDisk) {
	if disk.Device == "cdrom" && disk.ReadOnly == nil {
		disk.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
	}
	if disk.Target == nil || disk.Target.Bus != "" {
		return
	}
	disk.Target.Bus = "ide"
	if disk.Device == "floppy" {
		disk.Target.Bus = "fdc"
		return
	}
	for _, p := range diskBusPrefixes {
		if strings.HasPrefix(disk.Target.Dev, p.prefix) {
			disk.Target.Bus = p.bus
			return
		}
	}
}

// completeFilesystem checks source and target and gives the default
// access mode (virDomainFSDefParseXML, virDomainFSDefPostParse).
func completeFilesystem(fs *libvirtxml.DomainFilesystem) error {
	source, socket := filesystemSource(fs)
	target := ""
	if fs.Target != nil {
		target = fs.Target.Dir
	}
	if target == "" && socket == "" {
		if source != "" {
			return errf(ErrNoTarget, "missing target information for %s", source)
		}
		return errf(ErrNoTarget, "missing target information")
	}
	needsSource := fs.Source == nil || fs.Source.RAM == nil && fs.Source.Volume == nil
	if source == "" && socket == "" && needsSource {
		if target != "" {
			return errf(ErrNoSource, "missing source information for %s", target)
		}
		return errf(ErrNoSource, "missing source information")
	}
	if fs.AccessMode == "" && socket == "" {
		fs.AccessMode = "passthrough"
	}
	return nil
}

// filesystemSource returns the source path (or name) and socket of fs.
func filesystemSource(fs *libvirtxml.DomainFilesystem) (string, string) {
	s := fs.Source
	switch {
	case s == nil:
		return "", ""
	case s.Mount != nil:
		return s.Mount.Dir, s.Mount.Socket
	case s.Bind != nil:
		return s.Bind.Dir, ""
	case s.Block != nil:
		return s.Block.Dev, ""
	case s.File != nil:
		return s.File.File, ""
	case s.Template != nil:
		return s.Template.Name, ""
	}
	return "", ""
}

// completeInterface gives an interface a MAC address when it has none and
// writes its addresses and routes as libvirt does.
func completeInterface(iface *libvirtxml.DomainInterface) error {
	if iface.MAC == nil || iface.MAC.Address == "" {
		if iface.MAC == nil {
			iface.MAC = &libvirtxml.DomainInterfaceMAC{}
		}
		iface.MAC.Address = newMAC()
	} else {
		mac, err := canonicalMAC(iface.MAC.Address)
		if err != nil {
			return err
		}
		iface.MAC.Address = mac
	}
	if err := completeNetIPs(iface.IP); err != nil {
		return err
	}
	if err := completeRoutes(iface.Route); err != nil {
		return err
	}
	if iface.Source != nil && iface.Source.Ethernet != nil {
		if err := completeNetIPs(iface.Source.Ethernet.IP); err != nil {
			return err
		}
		return completeRoutes(iface.Source.Ethernet.Route)
	}
	return nil
}

// canonicalMAC checks a MAC address and writes it in lower case.
func canonicalMAC(s string) (string, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return "", errf(ErrInternal, "unable to parse mac address '%s'", s)
	}
	out := make([]string, 6)
	var first uint64
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || p == "" || len(p) > 2 {
			return "", errf(ErrInternal, "unable to parse mac address '%s'", s)
		}
		if i == 0 {
			first = v
		}
		out[i] = strconv.FormatUint(v|0x100, 16)[1:]
	}
	if first&1 != 0 {
		return "", errf(ErrXML, "expected unicast mac address, found multicast '%s'", s)
	}
	return strings.Join(out, ":"), nil
}

// completeNetIPs checks interface addresses and writes them, with their
// family, as libvirt does (virDomainNetIPParseXML).
func completeNetIPs(ips []libvirtxml.DomainInterfaceIP) error {
	for i := range ips {
		ip := &ips[i]
		addr, err := parseIP(ip.Address, ip.Family)
		if err != nil {
			return err
		}
		ip.Address, ip.Family = addr.String(), ipFamily(addr)
		if ip.Prefix > maxPrefix(addr) {
			return errf(ErrXML, "Invalid prefix value '%d' in <ip>", ip.Prefix)
		}
		if ip.Peer != "" {
			peer, err := netip.ParseAddr(ip.Peer)
			if err != nil || peer.Is4() != addr.Is4() {
				return errf(ErrInvalidArg, "Invalid peer '%s' in <ip>", ip.Peer)
			}
			ip.Peer = peer.String()
		}
	}
	return nil
}

// parseIP reads an <ip> address, which must match family when given.
func parseIP(s, family string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, errf(ErrInvalidArg, "Missing required address in <ip>")
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || family == "ipv4" && !a.Is4() || family == "ipv6" && a.Is4() {
		return netip.Addr{}, errf(ErrXML, "Invalid address '%s' in <ip>", s)
	}
	return a, nil
}

func ipFamily(a netip.Addr) string {
	if a.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

func maxPrefix(a netip.Addr) uint {
	if a.Is4() {
		return 32
	}
	return 128
}

// completeRoutes checks routes and writes their addresses as libvirt does
// (virNetDevIPRouteCreate).
func completeRoutes(routes []libvirtxml.DomainInterfaceRoute) error {
	for i := range routes {
		r := &routes[i]
		var err error
		if r.Address, err = routeAddr(r.Address, "address", "network"); err != nil {
			return err
		}
		if r.Gateway, err = routeAddr(r.Gateway, "gateway", "gateway"); err != nil {
			return err
		}
		if r.Netmask != "" {
			if r.Netmask, err = routeAddr(r.Netmask, "netmask", "netmask"); err != nil {
				return err
			}
		}
	}
	return nil
}

// routeAddr checks one address of a route.
func routeAddr(s, attr, what string) (string, error) {
	if s == "" {
		return "", errf(ErrXML, "Domain interface: Missing required %s attribute in route definition", attr)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", errf(ErrXML, "Domain interface: Bad %s address '%s' in route definition", what, s)
	}
	return a.String(), nil
}

// completeHostdev writes the addresses of a capabilities net host device
// as libvirt does.
func completeHostdev(h *libvirtxml.DomainHostdev) error {
	if h.CapsNet == nil {
		return nil
	}
	for i := range h.CapsNet.IP {
		ip := &h.CapsNet.IP[i]
		addr, err := parseIP(ip.Address, ip.Family)
		if err != nil {
			return err
		}
		ip.Address, ip.Family = addr.String(), ipFamily(addr)
		if ip.Prefix != nil && *ip.Prefix > maxPrefix(addr) {
			return errf(ErrXML, "Invalid prefix value '%d' in <ip>", *ip.Prefix)
		}
		if ip.Prefix != nil && *ip.Prefix == 0 {
			ip.Prefix = nil
		}
	}
	for i := range h.CapsNet.Route {
		r := &h.CapsNet.Route[i]
		var err error
		if r.Address, err = routeAddr(r.Address, "address", "network"); err != nil {
			return err
		}
		if r.Gateway, err = routeAddr(r.Gateway, "gateway", "gateway"); err != nil {
			return err
		}
	}
	return nil
}

// forEachCapability calls fn with the name and field of every capability
// of caps, in libvirt's order.
func forEachCapability(caps *libvirtxml.DomainFeatureCapabilities, fn func(string, **libvirtxml.DomainFeatureCapability)) {
	v := reflect.ValueOf(caps).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, ok := v.Field(i).Addr().Interface().(**libvirtxml.DomainFeatureCapability)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("xml"), ",")
		fn(libvirtCapName(name), f)
	}
}
