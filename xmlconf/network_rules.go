package xmlconf

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// forwardModes are libvirt's forward modes (virNetworkForward).
var forwardModes = []string{"none", "nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev"}

// l3Modes are the modes in which libvirt (and nsvirt) runs the bridge
// itself: no <forward>, nat, route and open.
var l3Modes = []string{"", "none", "nat", "route", "open"}

// dnsSRVMaxLength is libvirt's DNS_RECORD_LENGTH_SRV.
const dnsSRVMaxLength = 512 - 30

// checkForwardMode refuses forward modes libvirt does not know and those
// nsvirt does not implement (macvtap and SR-IOV modes).
func checkForwardMode(root *xnode, name string) error {
	fwd := root.child("forward")
	if fwd == nil {
		return nil
	}
	mode, _ := fwd.attr("mode")
	if mode == "" {
		return nil
	}
	if !slices.Contains(forwardModes, mode) {
		return errf(ErrConfigUnsupported, "unknown forwarding type '%s'", mode)
	}
	switch mode {
	case "private", "vepa", "passthrough", "hostdev":
		return errf(ErrConfigUnsupported, "unsupported forward mode '%s' in network '%s'", mode, name)
	}
	return nil
}

// normaliseNetworkNumbers checks the numbers of a network document as
// libvirt reads them, with its messages, and writes them in the form
// encoding/xml reads.
func normaliseNetworkNumbers(root *xnode, name string) error {
	if mtu := root.child("mtu"); mtu != nil {
		if v, ok := mtu.attr("size"); ok && v != "" {
			u, ok := parseUint(v)
			if !ok || u > math.MaxUint32 {
				return errf(ErrXML, "Invalid mtu size '%s' in network '%s'", v, name)
			}
			mtu.setAttr("size", strconv.FormatUint(u, 10))
		}
	}
	for _, ip := range namedChildren(root, "ip") {
		if err := propUint(ip, "prefix", math.MaxUint32); err != nil {
			return err
		}
		if dhcp := ip.child("dhcp"); dhcp != nil {
			for _, c := range dhcp.elements() {
				if lease := c.child("lease"); lease != nil {
					if err := propUint(lease, "expiry", math.MaxUint64); err != nil {
						return err
					}
				}
			}
		}
	}
	for _, r := range namedChildren(root, "route") {
		if err := propUint(r, "prefix", math.MaxUint32); err != nil {
			return err
		}
		if err := propUint(r, "metric", math.MaxUint32); err != nil {
			return err
		}
		if v, ok := r.attr("metric"); ok && v == "0" {
			return errf(ErrXML, "Invalid value for attribute 'metric' in element 'route': Zero is not permitted")
		}
	}
	if err := checkForwardTree(root, name); err != nil {
		return err
	}
	return checkSRVNumbers(root, name)
}

// propUint checks an unsigned attribute read with virXMLPropUInt or
// virXMLPropULongLong.
func propUint(n *xnode, attr string, limit uint64) error {
	v, ok := n.attr(attr)
	if !ok {
		return nil
	}
	u, ok := parseUint(v)
	if !ok || u > limit {
		return errf(ErrXML, "Invalid value for attribute '%s' in element '%s': '%s'. Expected non-negative integer value",
			attr, n.local, v)
	}
	n.setAttr(attr, strconv.FormatUint(u, 10))
	return nil
}

// checkForwardTree makes libvirt's checks of <forward> that depend on
// the document itself: the <nat> element and its address and port
// range.
func checkForwardTree(root *xnode, name string) error {
	fwd := root.child("forward")
	if fwd == nil {
		return nil
	}
	mode, _ := fwd.attr("mode")
	nats := namedChildren(fwd, "nat")
	switch {
	case len(nats) > 1:
		return errf(ErrXML, "Only one <nat> element is allowed in <forward> of network %s", name)
	case len(nats) == 0:
		return nil
	case mode != "" && mode != "nat":
		return errf(ErrXML, "The <nat> element can only be used when <forward> 'mode' is 'nat' in network %s", name)
	}
	nat := nats[0]
	if err := checkTristate(nat, "ipv6"); err != nil {
		return err
	}
	if err := checkNATAddress(nat, name); err != nil {
		return err
	}
	return checkNATPort(nat, name)
}

// checkNATAddress checks <nat><address start end/>.
func checkNATAddress(nat *xnode, name string) error {
	addrs := namedChildren(nat, "address")
	if len(addrs) > 1 {
		return errf(ErrXML, "Only one <address> element is allowed in <nat> in <forward> in network %s", name)
	}
	if len(addrs) == 0 {
		return nil
	}
	start, ok := addrs[0].attr("start")
	if !ok {
		return errf(ErrXML, "missing 'start' attribute in <address> element in <nat> in <forward> in network %s", name)
	}
	end, ok := addrs[0].attr("end")
	if !ok {
		return errf(ErrXML, "missing 'end' attribute in <address> element in <nat> in <forward> in network %s", name)
	}
	s, err := netip.ParseAddr(start)
	if err != nil || !s.Is4() {
		return errf(ErrXML, "Bad ipv4 start address '%s' in <nat> in <forward> in network '%s'", start, name)
	}
	e, err := netip.ParseAddr(end)
	if err != nil || !e.Is4() {
		return errf(ErrXML, "Bad ipv4 end address '%s' in <nat> in <forward> in network '%s'", end, name)
	}
	if _, err := addrRange(s, e); err != nil {
		return err
	}
	addrs[0].setAttr("start", s.String())
	addrs[0].setAttr("end", e.String())
	return nil
}

// checkNATPort checks <nat><port start end/>.
func checkNATPort(nat *xnode, name string) error {
	ports := namedChildren(nat, "port")
	if len(ports) > 1 {
		return errf(ErrXML, "Only one <port> element is allowed in <nat> in <forward> in network %s", name)
	}
	if len(ports) == 0 {
		return nil
	}
	v, _ := ports[0].attr("start")
	start, ok := parseUint(v)
	if !ok || start > 65535 {
		return errf(ErrXMLDetail, "Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network %s", name)
	}
	v, _ = ports[0].attr("end")
	end, ok := parseUint(v)
	if !ok || end > 65535 || end < start {
		return errf(ErrXMLDetail, "Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network %s", name)
	}
	ports[0].setAttr("start", strconv.FormatUint(start, 10))
	ports[0].setAttr("end", strconv.FormatUint(end, 10))
	return nil
}

// checkSRVNumbers checks the port, priority and weight of DNS SRV
// records, which need a target.
func checkSRVNumbers(root *xnode, name string) error {
	dns := root.child("dns")
	if dns == nil {
		return nil
	}
	for _, srv := range namedChildren(dns, "srv") {
		service, _ := srv.attr("service")
		// An empty target counts as none: the model cannot keep it.
		target, _ := srv.attr("target")
		hasTarget := target != ""
		for _, f := range []struct {
			attr, invalid string
			min, max      uint64
		}{
			{"port", "invalid DNS SRV port attribute", 1, 65535},
			{"priority", "Invalid DNS SRV priority attribute", 0, 65535},
			{"weight", "invalid DNS SRV weight attribute", 0, 65535},
		} {
			v, ok := srv.attr(f.attr)
			if !ok {
				continue
			}
			u, valid := parseUint(v)
			if valid && !hasTarget {
				return errf(ErrXMLDetail, "DNS SRV %s attribute not permitted without target for service '%s' in network '%s'",
					f.attr, service, name)
			}
			if !valid || u < f.min || u > f.max {
				return errf(ErrXMLDetail, "%s for service '%s' in network '%s'", f.invalid, service, name)
			}
			srv.setAttr(f.attr, strconv.FormatUint(u, 10))
		}
	}
	return nil
}

// completeNetwork makes the checks of libvirt's network parser and of its
// network driver's networkValidate, in their order, and fills in what the
// driver fills in on define.
func completeNetwork(n *Network, opts NetworkParseOptions) error {
	def := n.Def
	if err := completeNetworkIDs(def, opts); err != nil {
		return err
	}
	checks := []func(*libvirtxml.Network) error{
		checkNetDomain, checkNetBridge, checkNetMAC, checkNetDNS,
	}
	for _, check := range checks {
		if err := check(def); err != nil {
			return err
		}
	}
	for i := range def.IPs {
		if err := checkNetIP(def.Name, &def.IPs[i]); err != nil {
			return err
		}
	}
	if err := checkNetRoutes(n); err != nil {
		return err
	}
	if err := checkForwardModel(def); err != nil {
		return err
	}
	if err := checkModeRules(def); err != nil {
		return err
	}
	return validateNetwork(def, opts)
}

// completeNetworkIDs checks the name and makes the UUID canonical,
// generating one when there is none.
func completeNetworkIDs(def *libvirtxml.Network, opts NetworkParseOptions) error {
	if def.Name == "" {
		return errf(ErrNoName, "missing name information")
	}
	if err := illegalChars(def.Name, "/"); err != nil {
		return err
	}
	if strings.TrimSpace(def.UUID) == "" {
		def.UUID = newUUIDFrom(opts.Rand)
		return nil
	}
	u, ok := parseUUID(def.UUID)
	if !ok {
		return errf(ErrInternal, "malformed uuid element")
	}
	def.UUID = u
	return nil
}

// checkNetDomain checks the root's tristates and <domain>.
func checkNetDomain(def *libvirtxml.Network) error {
	if v := def.TrustGuestRxFilters; v != "" && v != "yes" && v != "no" {
		return invalidAttrOf("network", "trustGuestRxFilters", v)
	}
	if d := def.Domain; d != nil {
		for _, a := range []struct{ name, v string }{{"localOnly", d.LocalOnly}, {"register", d.Register}} {
			if a.v != "" && a.v != "yes" && a.v != "no" {
				return invalidAttrOf("domain", a.name, a.v)
			}
		}
	}
	return nil
}

// invalidAttrOf is invalidAttr for an element known by name.
func invalidAttrOf(element, attr, value string) error {
	return errf(ErrXML, "Invalid value for attribute '%s' in element '%s': '%s'.", attr, element, value)
}

// checkNetBridge checks the bridge's delay and MAC table manager.
func checkNetBridge(def *libvirtxml.Network) error {
	br := def.Bridge
	if br == nil {
		return nil
	}
	if br.Delay != "" {
		d, ok := parseUint(br.Delay)
		if !ok {
			return errf(ErrXML, "Invalid delay value in network '%s'", def.Name)
		}
		br.Delay = strconv.FormatUint(d, 10)
	}
	if m := br.MACTableManager; m != "" && m != "kernel" && m != "libvirt" {
		return errf(ErrXML, "Invalid macTableManager setting '%s' in network '%s'", m, def.Name)
	}
	return nil
}

// checkNetMAC checks the bridge's MAC address and writes it as libvirt
// does.
func checkNetMAC(def *libvirtxml.Network) error {
	if def.MAC == nil || def.MAC.Address == "" {
		def.MAC = nil
		return nil
	}
	mac, multicast, ok := parseMAC(def.MAC.Address)
	if !ok {
		return errf(ErrXML, "Invalid bridge mac address '%s' in network '%s'", def.MAC.Address, def.Name)
	}
	if multicast {
		return errf(ErrXML, "Invalid multicast bridge mac address '%s' in network '%s'", def.MAC.Address, def.Name)
	}
	def.MAC.Address = mac
	return nil
}

// checkNetDNS checks <dns> as virNetworkDNSDefParseXML does.
func checkNetDNS(def *libvirtxml.Network) error {
	dns := def.DNS
	if dns == nil {
		return nil
	}
	for _, a := range []struct{ name, v string }{{"enable", dns.Enable}, {"forwardPlainNames", dns.ForwardPlainNames}} {
		if a.v != "" && a.v != "yes" && a.v != "no" {
			return invalidAttrOf("dns", a.name, a.v)
		}
	}
	checks := []func(string, *libvirtxml.NetworkDNS) error{checkDNSForwarders, checkDNSHosts, checkDNSSRVs, checkDNSTXTs}
	for _, check := range checks {
		if err := check(def.Name, dns); err != nil {
			return err
		}
	}
	if dns.Enable == "no" && len(dns.Forwarders)+len(dns.Host)+len(dns.SRVs)+len(dns.TXTs) > 0 {
		return errf(ErrXML, "Extra data in disabled network '%s'", def.Name)
	}
	return nil
}

func checkDNSForwarders(name string, dns *libvirtxml.NetworkDNS) error {
	for i := range dns.Forwarders {
		f := &dns.Forwarders[i]
		if f.Addr != "" {
			a, err := netip.ParseAddr(f.Addr)
			if err != nil {
				return errf(ErrXML, "Invalid forwarder IP address '%s' in network '%s'", f.Addr, name)
			}
			f.Addr = a.String()
		}
		if f.Addr == "" && f.Domain == "" {
			return errf(ErrXML, "Invalid forwarder element, must contain at least one of addr or domain")
		}
	}
	return nil
}

func checkDNSHosts(name string, dns *libvirtxml.NetworkDNS) error {
	for i := range dns.Host {
		h := &dns.Host[i]
		if len(h.Hostnames) == 0 {
			return errf(ErrXMLDetail, "Missing hostname in network '%s' DNS HOST record", name)
		}
		for _, hn := range h.Hostnames {
			if hn.Hostname == "" {
				return errf(ErrXMLDetail, "Missing hostname in network '%s' DNS HOST record", name)
			}
		}
		if h.IP == "" {
			return errf(ErrXMLDetail, "Missing IP address in network '%s' DNS HOST record", name)
		}
		a, err := netip.ParseAddr(h.IP)
		if err != nil {
			return errf(ErrXMLDetail, "Invalid IP address in network '%s' DNS HOST record", name)
		}
		h.IP = a.String()
	}
	return nil
}

// Characters libvirt allows in SRV protocols and services.
const (
	srvProtocolChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/"
	srvServiceChars  = srvProtocolChars + "_*"
)

func checkDNSSRVs(name string, dns *libvirtxml.NetworkDNS) error {
	for _, s := range dns.SRVs {
		switch {
		case s.Service == "":
			return errf(ErrXMLDetail, "missing required service attribute in DNS SRV record of network '%s'", name)
		case len(s.Service) > dnsSRVMaxLength:
			return errf(ErrXMLDetail, "service attribute '%s' in network '%s' is too long, limit is %d bytes",
				s.Service, name, dnsSRVMaxLength)
		case strings.Trim(s.Service, srvServiceChars) != "":
			return errf(ErrXMLDetail, "invalid character in service attribute '%s' in DNS SRV record of network '%s'", s.Service, name)
		case s.Protocol == "":
			return errf(ErrXMLDetail, "missing required protocol attribute in DNS SRV record '%s' of network '%s'", s.Service, name)
		case strings.Trim(s.Protocol, srvProtocolChars) != "":
			return errf(ErrXMLDetail, "invalid character in protocol attribute '%s' in DNS SRV record of network '%s'", s.Protocol, name)
		}
	}
	return nil
}

func checkDNSTXTs(name string, dns *libvirtxml.NetworkDNS) error {
	for _, t := range dns.TXTs {
		if t.Name == "" {
			return errf(ErrXMLDetail, "missing required name attribute in DNS TXT record of network %s", name)
		}
		if strings.ContainsAny(t.Name, " ,") {
			return errf(ErrXMLDetail, "prohibited character in DNS TXT record name '%s' of network %s", t.Name, name)
		}
	}
	return nil
}

// checkForwardModel makes libvirt's checks of the forward interfaces and
// writes <forward/> (no mode) as NAT.
func checkForwardModel(def *libvirtxml.Network) error {
	fwd := def.Forward
	if fwd == nil {
		return nil
	}
	if fwd.Mode == "" {
		fwd.Mode = "nat"
	}
	for i, ifc := range fwd.Interfaces {
		if ifc.Dev == "" {
			return errf(ErrXML, "Missing required dev attribute in <forward> <interface> element of network %s", def.Name)
		}
		if i == 0 && fwd.Dev != "" && fwd.Dev != ifc.Dev {
			return errf(ErrXML, "<forward dev='%s'> must match first <interface dev='%s'/> in network %s", fwd.Dev, ifc.Dev, def.Name)
		}
		for _, prev := range fwd.Interfaces[:i] {
			if prev.Dev == ifc.Dev {
				return errf(ErrXML, "interface '%s' can only be listed once in network %s", ifc.Dev, def.Name)
			}
		}
	}
	if fwd.NAT != nil && fwd.NAT.IPv6 == "" && len(fwd.NAT.Addresses) == 0 && len(fwd.NAT.Ports) == 0 {
		fwd.NAT = nil
	}
	return nil
}

// forwardMode returns the network's forward mode, "" for none.
func forwardMode(def *libvirtxml.Network) string {
	if def.Forward == nil {
		return ""
	}
	if def.Forward.Mode == "" {
		return "nat"
	}
	return def.Forward.Mode
}

// checkModeRules makes the checks of libvirt's parser that depend on the
// forward mode.
func checkModeRules(def *libvirtxml.Network) error {
	mode := forwardMode(def)
	br := def.Bridge
	if br == nil {
		br = &libvirtxml.NetworkBridge{}
	}
	switch mode {
	case "nat", "route", "open":
		if len(def.IPs) == 0 {
			return errf(ErrXML, "%s forwarding requested, but no IP address provided for network '%s'", mode, def.Name)
		}
		if len(def.Forward.Interfaces) > 1 {
			return errf(ErrXML, "multiple forwarding interfaces specified for network '%s', only one is supported", def.Name)
		}
		if mode == "open" && len(def.Forward.Interfaces) > 0 {
			return errf(ErrXML, "forward dev not allowed for network '%s' with forward mode='%s'", def.Name, mode)
		}
	case "bridge":
		if br.Delay != "" && br.Delay != "0" || br.STP != "" || br.Zone != "" {
			return errf(ErrXML, "bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in %s (network '%s')",
				mode, def.Name)
		}
		if br.Name != "" && len(def.Forward.Interfaces) > 0 {
			return errf(ErrXML, "A network with forward mode='%s' can specify a bridge name or a forward dev, but not both (network '%s')",
				mode, def.Name)
		}
		if def.MTU != nil && def.MTU.Size > 0 {
			return errf(ErrXML, "mtu size only allowed in open, route, nat, and isolated mode, not in %s (network '%s')", mode, def.Name)
		}
	}
	return nil
}

// validateNetwork makes the checks of libvirt's networkValidate and fills
// in what it fills in: for the modes with a bridge of their own a bridge
// name and MAC address; for bridge mode it refuses what only those modes
// have.
func validateNetwork(def *libvirtxml.Network, opts NetworkParseOptions) error {
	if err := illegalChars(def.Name, "\n"); err != nil {
		return err
	}
	mode := forwardMode(def)
	if slices.Contains(l3Modes, mode) {
		if err := completeBridge(def, opts); err != nil {
			return err
		}
	} else if err := validateBridgeMode(def, mode); err != nil {
		return err
	}
	var v4, v6 bool
	for _, ip := range def.IPs {
		if ip.DHCP == nil || len(ip.DHCP.Ranges)+len(ip.DHCP.Hosts) == 0 {
			continue
		}
		a, _ := netip.ParseAddr(ip.Address)
		seen, family := &v6, "IPv6"
		if a.Is4() {
			seen, family = &v4, "IPv4"
		}
		if *seen {
			return errf(ErrConfigUnsupported, "Multiple %s dhcp sections found -- dhcp is supported only for a single %s address on each network",
				family, family)
		}
		*seen = true
	}
	return nil
}

// completeBridge gives a network with a bridge of its own a bridge name
// (networkBridgeNameValidate), STP and delay, and a MAC address.
func completeBridge(def *libvirtxml.Network, opts NetworkParseOptions) error {
	if def.Bridge == nil {
		def.Bridge = &libvirtxml.NetworkBridge{}
	}
	br := def.Bridge
	if br.Name == "" || strings.Contains(br.Name, "%d") {
		template := "virbr%d"
		if strings.Count(br.Name, "%") == 1 && strings.Contains(br.Name, "%d") {
			template = br.Name
		}
		name, ok := nextBridgeName(template, opts.UsedBridges)
		if !ok {
			return errf(ErrInternal, "Bridge generation exceeded max id %d", maxBridgeID)
		}
		br.Name = name
	}
	if br.STP != "off" {
		br.STP = "on"
	}
	if br.Delay == "" {
		br.Delay = "0"
	}
	if def.MAC == nil {
		def.MAC = &libvirtxml.NetworkMAC{Address: GenerateMAC(opts.Rand)}
	}
	return nil
}

// validateBridgeMode refuses for a network onto a host bridge what only
// networks with a bridge of their own can have, and, as nsvirt supports
// only that kind, a bridge mode network without a bridge name (a macvtap
// device pool).
func validateBridgeMode(def *libvirtxml.Network, mode string) error {
	refuse := func(element string) error {
		return errf(ErrConfigUnsupported, "Unsupported <%s> element in network %s with forward mode='%s'", element, def.Name, mode)
	}
	switch {
	case def.Bridge == nil || def.Bridge.Name == "":
		return errf(ErrConfigUnsupported,
			"unsupported forward mode '%s' without a bridge name in network '%s': only an existing host bridge (<bridge name='...'/>) is supported",
			mode, def.Name)
	case def.MAC != nil:
		return refuse("mac")
	case len(def.IPs) > 0:
		return refuse("ip")
	case def.DNS != nil && len(def.DNS.TXTs)+len(def.DNS.Host)+len(def.DNS.SRVs) > 0:
		return refuse("dns")
	case def.Domain != nil && def.Domain.Name != "":
		return refuse("domain")
	}
	def.Bridge.Delay = ""
	return nil
}
