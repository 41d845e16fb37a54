package xmlconf

import (
	"net/netip"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// The checks of a network's addresses: <ip> with its DHCP ranges and
// static hosts, and static routes.

// checkNetIP checks an <ip> element as virNetworkIPDefParseXML does and
// writes its addresses as libvirt does.
func checkNetIP(name string, ip *libvirtxml.NetworkIP) error {
	if ip.Address == "" {
		return errf(ErrXML, "Missing required address attribute in network '%s'", name)
	}
	addr, err := netip.ParseAddr(ip.Address)
	if err != nil {
		return errf(ErrXML, "Invalid address '%s' in network '%s'", ip.Address, name)
	}
	var mask netip.Addr
	if ip.Netmask != "" {
		if mask, err = netip.ParseAddr(ip.Netmask); err != nil {
			return errf(ErrXML, "Invalid netmask '%s' in network '%s'", ip.Netmask, name)
		}
	}
	if v := ip.LocalPtr; v != "" && v != "yes" && v != "no" {
		return invalidAttrOf("ip", "localPtr", v)
	}
	if err := checkIPFamily(name, ip, addr, mask); err != nil {
		return err
	}
	ip.Address = addr.String()
	if mask.IsValid() {
		ip.Netmask = mask.String()
	}
	if ip.DHCP != nil {
		if err := checkDHCP(name, ip, addr); err != nil {
			return err
		}
	}
	if ip.TFTP != nil && !addr.Is4() {
		return errf(ErrConfigUnsupported, "Unsupported <tftp> element in an IPv6 element in network '%s'", name)
	}
	return nil
}

// checkIPFamily checks address, netmask and prefix against the family.
func checkIPFamily(name string, ip *libvirtxml.NetworkIP, addr, mask netip.Addr) error {
	switch ip.Family {
	case "", "ipv4":
		if !addr.Is4() {
			family := "ipv4"
			if ip.Family == "" {
				family = "no"
			}
			return errf(ErrConfigUnsupported, "%s family specified for non-IPv4 address '%s' in network '%s'", family, ip.Address, name)
		}
		if mask.IsValid() {
			if !mask.Is4() {
				return errf(ErrConfigUnsupported, "Invalid netmask '%s' for address '%s' in network '%s' (both must be IPv4)",
					ip.Netmask, ip.Address, name)
			}
			if ip.Prefix > 0 {
				return errf(ErrConfigUnsupported, "Network '%s' IP address cannot have both a prefix and a netmask", name)
			}
		} else if ip.Prefix > 32 {
			return errf(ErrConfigUnsupported, "Invalid IPv4 prefix '%d' in network '%s'", ip.Prefix, name)
		}
	case "ipv6":
		switch {
		case !addr.Is6():
			return errf(ErrConfigUnsupported, "Family 'ipv6' specified for non-IPv6 address '%s' in network '%s'", ip.Address, name)
		case ip.Netmask != "":
			return errf(ErrConfigUnsupported, "netmask not allowed for IPv6 address '%s' in network '%s'", ip.Address, name)
		case ip.Prefix > 128:
			return errf(ErrConfigUnsupported, "Invalid IPv6 prefix '%d' in network '%s'", ip.Prefix, name)
		}
	default:
		return errf(ErrXML, "Unrecognized family '%s' in network '%s'", ip.Family, name)
	}
	return nil
}

// checkDHCP checks the ranges, static hosts and boot server of an <ip>'s
// <dhcp>. Beyond libvirt, static hosts must lie in the subnet and be
// unique, since dnsmasq would otherwise ignore or mix them up.
func checkDHCP(name string, ip *libvirtxml.NetworkIP, addr netip.Addr) error {
	dhcp := ip.DHCP
	bits := ipPrefixLen(addr, ip.Netmask, ip.Prefix)
	subnet := netip.PrefixFrom(addr, bits) // invalid when bits < 0
	for i := range dhcp.Ranges {
		if err := checkDHCPRange(name, &dhcp.Ranges[i], addr, bits); err != nil {
			return err
		}
	}
	for i := range dhcp.Hosts {
		if err := checkDHCPHost(name, &dhcp.Hosts[i], addr); err != nil {
			return err
		}
	}
	if err := checkHostsInSubnet(name, dhcp.Hosts, subnet); err != nil {
		return err
	}
	if len(dhcp.Bootp) > 0 && addr.Is4() {
		b := &dhcp.Bootp[0]
		if b.File == "" {
			return errf(ErrXML, "Missing required attribute 'file' in element 'bootp'")
		}
		if b.Server != "" {
			s, err := parseSocketAddr(b.Server)
			if err != nil {
				return err
			}
			b.Server = s.String()
		}
	}
	return nil
}

// parseSocketAddr reads a numeric address as virSocketAddrParse does.
func parseSocketAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, errf(ErrInternal, "Cannot parse socket address '%s': Name or service not known", s)
	}
	return a, nil
}

// checkDHCPRange checks a DHCP range against its network.
func checkDHCPRange(name string, r *libvirtxml.NetworkDHCPRange, network netip.Addr, bits int) error {
	if r.Start == "" {
		return errf(ErrXML, "Missing 'start' attribute in dhcp range for network '%s'", name)
	}
	start, err := parseSocketAddr(r.Start)
	if err != nil {
		return err
	}
	if r.End == "" {
		return errf(ErrXML, "Missing 'end' attribute in dhcp range for network '%s'", name)
	}
	end, err := parseSocketAddr(r.End)
	if err != nil {
		return err
	}
	if err := checkRangeInNetwork(start, end, network, bits); err != nil {
		return err
	}
	if _, err := addrRange(start, end); err != nil {
		return err
	}
	r.Start, r.End = start.String(), end.String()
	return checkLease(r.Lease)
}

// checkLease checks a DHCP lease time (dnsmasq's minimum is two minutes).
func checkLease(l *libvirtxml.NetworkDHCPLease) error {
	if l == nil {
		return nil
	}
	switch l.Unit {
	case "", "seconds", "minutes", "hours":
	default:
		return invalidAttrOf("lease", "unit", l.Unit)
	}
	if l.Expiry > 0 && (l.Unit == "seconds" && l.Expiry < 120 || (l.Unit == "" || l.Unit == "minutes") && l.Expiry < 2) {
		return errf(ErrConfigUnsupported, "The minimum lease time should be greater than 2 minutes")
	}
	if l.Expiry > 0 && l.Unit == "" {
		l.Unit = "minutes"
	}
	return nil
}

// checkRangeInNetwork is the part of libvirt's virSocketAddrGetRange that
// compares a range with its network.
func checkRangeInNetwork(start, end, network netip.Addr, bits int) error {
	s, e, net := start.String(), end.String(), network.String()
	if start.Is4() != end.Is4() {
		return errf(ErrInternal, "mismatch of address family in range %s - %s", s, e)
	}
	if start.Is4() != network.Is4() {
		return errf(ErrInternal, "mismatch of address family in range %s - %s for network %s", s, e, net)
	}
	if bits < 0 || bits > network.BitLen() {
		return errf(ErrInternal, "bad prefix %d for network %s when checking range %s - %s", bits, net, s, e)
	}
	p := netip.PrefixFrom(network, bits).Masked()
	if !p.Contains(start) || !p.Contains(end) {
		return errf(ErrInternal, "range %s - %s is not entirely within network %s/%d", s, e, net, bits)
	}
	if start.Is4() {
		if start == p.Addr() {
			return errf(ErrInternal, "start of range %s - %s in network %s/%d is the network address", s, e, net, bits)
		}
		if end == lastAddr(p) {
			return errf(ErrInternal, "end of range %s - %s in network %s/%d is the broadcast address", s, e, net, bits)
		}
	}
	return nil
}

// lastAddr returns the last address of p (the IPv4 broadcast address).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// addrRange is the rest of virSocketAddrGetRange: the range must not be
// reversed and only its last 16 bits may differ. It returns the number of
// addresses.
func addrRange(start, end netip.Addr) (int, error) {
	s, e := start.AsSlice(), end.AsSlice()
	if len(s) != len(e) {
		return 0, errf(ErrInternal, "mismatch of address family in range %s - %s", start, end)
	}
	for i := 0; i < len(s)-2; i++ {
		if s[i] != e[i] {
			return 0, errf(ErrInternal, "range %s - %s is too large (> 65535)", start, end)
		}
	}
	n := (int(e[len(e)-2])-int(s[len(s)-2]))*256 + int(e[len(e)-1]) - int(s[len(s)-1])
	if n < 0 {
		if start.Is4() {
			return 0, errf(ErrInternal, "range %s - %s is reversed ", start, end)
		}
		return 0, errf(ErrInternal, "range %s - %s start larger than end", start, end)
	}
	return n + 1, nil
}

// checkDHCPHost checks a static DHCP host as virNetworkDHCPHostDefParseXML
// does. The MAC address is kept as written, as libvirt keeps it.
func checkDHCPHost(name string, h *libvirtxml.NetworkDHCPHost, network netip.Addr) error {
	if h.MAC != "" {
		if !network.Is4() {
			return errf(ErrXML, "Invalid to specify MAC address '%s' in network '%s' IPv6 static host definition", h.MAC, name)
		}
		_, multicast, ok := parseMAC(h.MAC)
		if !ok {
			return errf(ErrXML, "Cannot parse MAC address '%s' in network '%s'", h.MAC, name)
		}
		if multicast {
			return errf(ErrXML, "expected unicast mac address, found multicast '%s' in network '%s'", h.MAC, name)
		}
	}
	if h.ID != "" {
		if i := strings.IndexFunc(h.ID, func(r rune) bool { return !strings.ContainsRune("0123456789abcdefABCDEF:", r) }); i >= 0 {
			return errf(ErrXML, "Invalid character '%c' in id '%s' of network '%s'", h.ID[i], h.ID, name)
		}
	}
	if h.Name != "" && !isASCIIAlnum(h.Name[0]) {
		return errf(ErrXML, "Cannot use host name '%s' in network '%s'", h.Name, name)
	}
	if h.IP != "" {
		a, err := netip.ParseAddr(h.IP)
		if err != nil {
			return errf(ErrXML, "Invalid IP address in static host definition for network '%s'", name)
		}
		h.IP = a.String()
	}
	switch {
	case !network.Is4() && h.ID == "" && h.Name == "":
		return errf(ErrXML, "Static host definition in IPv6 network '%s' must have id or name attribute", name)
	case network.Is4() && h.MAC == "" && h.Name == "":
		return errf(ErrXML, "Static host definition in IPv4 network '%s' must have mac or name attribute", name)
	case h.IP == "":
		return errf(ErrXML, "Missing IP address in static host definition for network '%s'", name)
	}
	return checkLease(h.Lease)
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkHostsInSubnet requires static hosts to have addresses in the
// network's subnet and no two of them to share a MAC address, name or
// address (libvirt checks this only when hosts are added with
// net-update; dnsmasq mixes up or ignores such entries).
func checkHostsInSubnet(name string, hosts []libvirtxml.NetworkDHCPHost, subnet netip.Prefix) error {
	for i, h := range hosts {
		a, _ := netip.ParseAddr(h.IP)
		if subnet.IsValid() && !subnet.Masked().Contains(a) {
			return errf(ErrConfigUnsupported, "static host address '%s' is not within network '%s' subnet %s",
				h.IP, name, subnet.Masked())
		}
		for _, prev := range hosts[:i] {
			if sameHost(prev, h) {
				return errf(ErrConfigUnsupported,
					"there is an existing dhcp host entry in network '%s' that matches \"<host mac='%s' name='%s' ip='%s'/>\"",
					name, h.MAC, h.Name, h.IP)
			}
		}
	}
	return nil
}

// sameHost reports whether two static hosts share a MAC address, name or
// address.
func sameHost(a, b libvirtxml.NetworkDHCPHost) bool {
	if a.MAC != "" && b.MAC != "" {
		ma, _, _ := parseMAC(a.MAC)
		mb, _, _ := parseMAC(b.MAC)
		if ma == mb {
			return true
		}
	}
	return a.Name != "" && a.Name == b.Name || a.IP != "" && a.IP == b.IP
}

// checkNetRoutes checks the network's static routes as
// virNetDevIPRouteCreate does, and that each gateway is reachable
// through one of the network's addresses.
func checkNetRoutes(n *Network) error {
	def := n.Def
	for i := range def.Routes {
		r := &def.Routes[i]
		key := newNetRouteKey(*r)
		zero := n.zeroPrefix[key]
		if err := checkNetRoute(def.Name, r, n.RouteHasPrefix(*r)); err != nil {
			return err
		}
		if zero { // the key changes with the canonical addresses
			delete(n.zeroPrefix, key)
			n.SetRoutePrefix(r, 0)
		}
		gw, _ := netip.ParseAddr(r.Gateway)
		if !gatewayReachable(def.IPs, gw) {
			return errf(ErrConfigUnsupported, "unreachable static route gateway '%s' specified for network '%s'", r.Gateway, def.Name)
		}
	}
	return nil
}

// checkNetRoute checks one route; detail names the network in messages.
func checkNetRoute(detail string, r *libvirtxml.NetworkRoute, hasPrefix bool) error {
	if r.Address == "" {
		return errf(ErrXML, "%s: Missing required address attribute in route definition", detail)
	}
	if r.Gateway == "" {
		return errf(ErrXML, "%s: Missing required gateway attribute in route definition", detail)
	}
	addr, err := netip.ParseAddr(r.Address)
	if err != nil {
		return errf(ErrXML, "%s: Bad network address '%s' in route definition", detail, r.Address)
	}
	gw, err := netip.ParseAddr(r.Gateway)
	if err != nil {
		return errf(ErrXML, "%s: Bad gateway address '%s' in route definition", detail, r.Gateway)
	}
	var mask netip.Addr
	switch r.Family {
	case "", "ipv4":
		if mask, err = checkRoute4(detail, r, addr, gw, hasPrefix); err != nil {
			return err
		}
	case "ipv6":
		switch {
		case !addr.Is6():
			return errf(ErrXML, "%s: ipv6 family specified for non-IPv6 address '%s' in route definition", detail, r.Address)
		case r.Netmask != "":
			return errf(ErrXML, "%s: Specifying netmask invalid for IPv6 address '%s' in route definition", detail, r.Address)
		case !gw.Is6():
			return errf(ErrXML, "%s: ipv6 specified for non-IPv6 gateway address '%s' in route definition", detail, r.Gateway)
		case r.Prefix > 128:
			return errf(ErrXML, "%s: Invalid prefix %d specified in route definition, must be 0 - 128", detail, r.Prefix)
		}
	default:
		return errf(ErrXML, "%s: Unrecognized family '%s' in route definition", detail, r.Family)
	}
	if networkAddress(addr, mask, r.Prefix) != addr {
		return errf(ErrXML, "%s: Address '%s' in route definition is not a network address", detail, r.Address)
	}
	r.Address, r.Gateway = addr.String(), gw.String()
	if mask.IsValid() {
		r.Netmask = mask.String()
	}
	return nil
}

// networkAddress masks addr with mask when it is valid, else with the
// prefix (0 when none is given), as virNetDevIPRouteCreate does.
func networkAddress(addr, mask netip.Addr, prefix uint) netip.Addr {
	if mask.IsValid() {
		a, m := addr.AsSlice(), mask.AsSlice()
		for i := range a {
			if i < len(m) {
				a[i] &= m[i]
			}
		}
		out, _ := netip.AddrFromSlice(a)
		return out
	}
	p, err := addr.Prefix(int(min(prefix, uint(addr.BitLen()))))
	if err != nil {
		return netip.Addr{}
	}
	return p.Addr()
}

// checkRoute4 checks the IPv4 parts of a route and returns its netmask.
func checkRoute4(detail string, r *libvirtxml.NetworkRoute, addr, gw netip.Addr, hasPrefix bool) (netip.Addr, error) {
	if !addr.Is4() {
		if r.Family == "" {
			return netip.Addr{}, errf(ErrXML, "%s: No family specified for non-IPv4 address '%s' in route definition", detail, r.Address)
		}
		return netip.Addr{}, errf(ErrXML, "%s: IPv4 family specified for non-IPv4 address '%s' in route definition", detail, r.Address)
	}
	// libvirt names the address, not the gateway, in these two.
	if !gw.Is4() {
		if r.Family == "" {
			return netip.Addr{}, errf(ErrXML, "%s: No family specified for non-IPv4 gateway '%s' in route definition", detail, r.Address)
		}
		return netip.Addr{}, errf(ErrXML, "%s: IPv4 family specified for non-IPv4 gateway '%s' in route definition", detail, r.Address)
	}
	var mask netip.Addr
	if r.Netmask != "" {
		m, err := netip.ParseAddr(r.Netmask)
		if err != nil {
			return netip.Addr{}, errf(ErrXML, "%s: Bad netmask address '%s' in route definition", detail, r.Netmask)
		}
		if !m.Is4() {
			return netip.Addr{}, errf(ErrXML, "%s: Invalid netmask '%s' for address '%s' (both must be IPv4)", detail, r.Netmask, r.Address)
		}
		if hasPrefix {
			return netip.Addr{}, errf(ErrXML, "%s: Route definition cannot have both a prefix and a netmask", detail)
		}
		mask = m
	}
	if r.Prefix > 32 {
		return netip.Addr{}, errf(ErrXML, "%s: Invalid prefix %d specified in route definition, must be 0 - 32", detail, r.Prefix)
	}
	return mask, nil
}

// gatewayReachable reports whether gw lies in the subnet of one of ips.
func gatewayReachable(ips []libvirtxml.NetworkIP, gw netip.Addr) bool {
	for _, ip := range ips {
		p, ok := ipSubnet(ip)
		if ok && p.Addr().Is4() == gw.Is4() && p.Masked().Contains(gw) {
			return true
		}
	}
	return false
}
