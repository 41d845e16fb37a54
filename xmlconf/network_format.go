package xmlconf

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// lineWriter writes libvirt-style XML a line at a time (virBuffer with
// virBufferAdjustIndent).
type lineWriter struct {
	b     strings.Builder
	depth int
}

func (w *lineWriter) line(s string) {
	w.b.WriteString(strings.Repeat("  ", w.depth))
	w.b.WriteString(s)
	w.b.WriteByte('\n')
}

func (w *lineWriter) open(s string) {
	w.line(s)
	w.depth++
}

func (w *lineWriter) close(s string) {
	w.depth--
	w.line(s)
}

// attr writes one attribute, escaped.
func attr(name, value string) string {
	return " " + name + "='" + Escape(value) + "'"
}

// optAttr writes an attribute when value is not empty.
func optAttr(name, value string) string {
	if value == "" {
		return ""
	}
	return attr(name, value)
}

// addr writes an address as libvirt does (virSocketAddrFormat); what is not
// an address is written as it is.
func addr(s string) string { return canonicalIP(s) }

// formatNetwork implements FormatNetwork, in the order of libvirt's
// virNetworkDefFormatBuf. With model set it writes whatever the model
// holds, checked or not, so that the parser can see what the model kept.
func formatNetwork(n *Network, opts NetworkFormatOptions, model bool) (string, error) {
	def := n.Def
	var w lineWriter
	head := "<network"
	if !opts.Inactive && opts.Connections > 0 {
		head += fmt.Sprintf(" connections='%d'", opts.Connections)
	}
	if def.IPv6 == "yes" {
		head += " ipv6='yes'"
	}
	head += optAttr("trustGuestRxFilters", def.TrustGuestRxFilters)
	w.open(head + ">")
	w.line("<name>" + Escape(def.Name) + "</name>")
	w.line("<uuid>" + Escape(def.UUID) + "</uuid>")
	if n.Title != "" {
		w.line("<title>" + Escape(n.Title) + "</title>")
	}
	if n.Description != "" {
		w.line("<description>" + Escape(n.Description) + "</description>")
	}
	if err := writeNetMetadata(&w, def, model); err != nil {
		return "", err
	}
	writeForward(&w, def)
	writeBridge(&w, def, model)
	if def.MTU != nil && def.MTU.Size > 0 {
		w.line(fmt.Sprintf("<mtu size='%d'/>", def.MTU.Size))
	}
	if def.MAC != nil && def.MAC.Address != "" {
		w.line("<mac" + attr("address", def.MAC.Address) + "/>")
	}
	if d := def.Domain; d != nil && (d.Name != "" || model) {
		w.line("<domain" + attr("name", d.Name) + optAttr("localOnly", d.LocalOnly) + optAttr("register", d.Register) + "/>")
	}
	writeDNS(&w, def.DNS, model)
	for _, ip := range def.IPs {
		writeIP(&w, ip, model)
	}
	for _, r := range def.Routes {
		writeNetRoute(&w, r, n.RouteHasPrefix(r))
	}
	w.close("</network>")
	return w.b.String(), nil
}

// writeNetMetadata writes <metadata> as libxml2 dumps it.
func writeNetMetadata(w *lineWriter, def *libvirtxml.Network, model bool) error {
	if def.Metadata == nil {
		return nil
	}
	raw, err := dumpMetadata(def.Metadata.XML, w.depth+1)
	if err != nil {
		if model {
			raw = ""
		} else {
			return errf(ErrXML, "malformed metadata: %v", err)
		}
	}
	if strings.TrimSpace(raw) == "" {
		w.line("<metadata/>")
		return nil
	}
	w.line("<metadata>")
	w.b.WriteString(raw)
	w.line("</metadata>")
	return nil
}

// writeForward writes <forward> (nothing for an isolated network).
func writeForward(w *lineWriter, def *libvirtxml.Network) {
	fwd := def.Forward
	mode := forwardMode(def)
	if fwd == nil || mode == "none" {
		return
	}
	dev := ""
	if len(fwd.PFs) == 0 {
		dev = fwd.Dev
		if len(fwd.Interfaces) > 0 {
			dev = fwd.Interfaces[0].Dev
		}
	}
	nat := fwd.NAT
	if mode != "nat" {
		nat = nil
	}
	natBody := nat != nil && (len(nat.Addresses) > 0 || len(nat.Ports) > 0 && (nat.Ports[0].Start > 0 || nat.Ports[0].End > 0))
	short := len(fwd.Interfaces) == 0 && len(fwd.PFs) == 0 && !natBody && (nat == nil || nat.IPv6 == "")
	head := "<forward" + optAttr("dev", dev) + attr("mode", mode)
	if short {
		w.line(head + "/>")
		return
	}
	w.open(head + ">")
	if nat != nil && (natBody || nat.IPv6 != "") {
		writeNAT(w, nat, natBody)
	}
	for _, ifc := range fwd.Interfaces {
		w.line("<interface" + attr("dev", ifc.Dev) + "/>")
	}
	w.close("</forward>")
}

// writeNAT writes <nat> (virNetworkForwardNatDefFormat).
func writeNAT(w *lineWriter, nat *libvirtxml.NetworkForwardNAT, body bool) {
	head := "<nat" + optAttr("ipv6", nat.IPv6)
	if !body {
		w.line(head + "/>")
		return
	}
	w.open(head + ">")
	if len(nat.Addresses) > 0 {
		a := nat.Addresses[0]
		w.line("<address" + attr("start", addr(a.Start)) + optAttr("end", addr(a.End)) + "/>")
	}
	if len(nat.Ports) > 0 && (nat.Ports[0].Start > 0 || nat.Ports[0].End > 0) {
		p := nat.Ports[0]
		s := fmt.Sprintf("<port start='%d'", p.Start)
		if p.End > 0 {
			s += fmt.Sprintf(" end='%d'", p.End)
		}
		w.line(s + "/>")
	}
	w.close("</nat>")
}

// writeBridge writes <bridge>: always for the modes with a bridge of
// their own, with STP and delay; otherwise only to name a bridge. The
// model's form writes what the model holds.
func writeBridge(w *lineWriter, def *libvirtxml.Network, model bool) {
	br := def.Bridge
	if br == nil {
		br = &libvirtxml.NetworkBridge{}
	}
	own := slices.Contains(l3Modes, forwardMode(def))
	if !own && br.Name == "" && br.MACTableManager == "" {
		return
	}
	s := "<bridge" + optAttr("name", br.Name) + optAttr("zone", br.Zone)
	if model && !own {
		s += optAttr("stp", br.STP) + optAttr("delay", br.Delay)
	}
	if own {
		stp := "on"
		if br.STP == "off" {
			stp = "off"
		}
		delay := "0"
		if d, ok := parseUint(br.Delay); ok {
			delay = strconv.FormatUint(d, 10)
		}
		s += attr("stp", stp) + attr("delay", delay)
	}
	w.line(s + optAttr("macTableManager", br.MACTableManager) + "/>")
}

// writeDNS writes <dns> (virNetworkDNSDefFormat); the model's form keeps
// incomplete SRV records.
func writeDNS(w *lineWriter, dns *libvirtxml.NetworkDNS, model bool) {
	if dns == nil {
		return
	}
	var srvs []libvirtxml.NetworkDNSSRV
	for _, s := range dns.SRVs {
		if s.Service != "" && s.Protocol != "" || model {
			srvs = append(srvs, s)
		}
	}
	records := len(dns.Forwarders) + len(dns.TXTs) + len(dns.SRVs) + len(dns.Host)
	if dns.Enable == "" && dns.ForwardPlainNames == "" && records == 0 {
		return
	}
	head := "<dns" + optAttr("enable", dns.Enable) + optAttr("forwardPlainNames", dns.ForwardPlainNames)
	if records == 0 {
		w.line(head + "/>")
		return
	}
	w.open(head + ">")
	for _, f := range dns.Forwarders {
		w.line("<forwarder" + optAttr("domain", f.Domain) + optAttr("addr", addr(f.Addr)) + "/>")
	}
	for _, t := range dns.TXTs {
		w.line("<txt" + attr("name", t.Name) + attr("value", t.Value) + "/>")
	}
	for _, s := range srvs {
		line := "<srv" + optAttr("service", s.Service) + optAttr("protocol", s.Protocol) +
			optAttr("domain", s.Domain) + optAttr("target", s.Target)
		for _, n := range []struct {
			name string
			v    uint
		}{{"port", s.Port}, {"priority", s.Priority}, {"weight", s.Weight}} {
			if n.v > 0 {
				line += fmt.Sprintf(" %s='%d'", n.name, n.v)
			}
		}
		w.line(line + "/>")
	}
	for _, h := range dns.Host {
		w.open("<host" + attr("ip", addr(h.IP)) + ">")
		for _, hn := range h.Hostnames {
			w.line("<hostname>" + Escape(hn.Hostname) + "</hostname>")
		}
		w.close("</host>")
	}
	w.close("</dns>")
}

// writeIP writes an <ip> (virNetworkIPDefFormat), which libvirt always
// writes with an end tag.
func writeIP(w *lineWriter, ip libvirtxml.NetworkIP, model bool) {
	head := "<ip" + optAttr("family", ip.Family) + optAttr("address", addr(ip.Address)) + optAttr("netmask", addr(ip.Netmask))
	if ip.Prefix > 0 {
		head += fmt.Sprintf(" prefix='%d'", ip.Prefix)
	}
	w.open(head + optAttr("localPtr", ip.LocalPtr) + ">")
	if ip.TFTP != nil && ip.TFTP.Root != "" {
		w.line("<tftp" + attr("root", ip.TFTP.Root) + "/>")
	}
	if d := ip.DHCP; d != nil && (len(d.Ranges)+len(d.Hosts) > 0 || model) {
		writeDHCP(w, d, isIPv4(ip), model)
	}
	w.close("</ip>")
}

// isIPv4 reports whether an <ip> is an IPv4 one.
func isIPv4(ip libvirtxml.NetworkIP) bool {
	a, err := netip.ParseAddr(ip.Address)
	return ip.Family == "ipv4" || ip.Family == "" && (err != nil || a.Is4())
}

// writeDHCP writes <dhcp>: ranges, static hosts and the boot server.
func writeDHCP(w *lineWriter, d *libvirtxml.NetworkDHCP, ipv4, model bool) {
	w.open("<dhcp>")
	for _, r := range d.Ranges {
		writeLeased(w, "<range"+attr("start", addr(r.Start))+attr("end", addr(r.End)), "</range>", r.Lease, model)
	}
	for _, h := range d.Hosts {
		s := "<host" + optAttr("mac", h.MAC) + optAttr("id", h.ID) + optAttr("name", h.Name) + optAttr("ip", addr(h.IP))
		writeLeased(w, s, "</host>", h.Lease, model)
	}
	if len(d.Bootp) > 0 && (d.Bootp[0].File != "" && ipv4 || model) {
		b := d.Bootp[0]
		w.line("<bootp" + optAttr("file", b.File) + optAttr("server", addr(b.Server)) + "/>")
	}
	w.close("</dhcp>")
}

// writeLeased writes a DHCP range or host, with its lease time if any
// (an infinite lease without its unit, except in the model's form).
func writeLeased(w *lineWriter, head, end string, lease *libvirtxml.NetworkDHCPLease, model bool) {
	if lease == nil {
		w.line(head + "/>")
		return
	}
	w.open(head + ">")
	if lease.Expiry == 0 {
		w.line("<lease expiry='0'" + optAttr("unit", map[bool]string{true: lease.Unit}[model]) + "/>")
	} else {
		unit := lease.Unit
		if unit == "" {
			unit = "minutes"
		}
		w.line(fmt.Sprintf("<lease expiry='%d'", lease.Expiry) + attr("unit", unit) + "/>")
	}
	w.close(end)
}

// writeNetRoute writes a static route (virNetDevIPRouteFormat).
func writeNetRoute(w *lineWriter, r libvirtxml.NetworkRoute, hasPrefix bool) {
	s := "<route" + optAttr("family", r.Family) + attr("address", addr(r.Address)) + optAttr("netmask", addr(r.Netmask))
	if hasPrefix {
		s += fmt.Sprintf(" prefix='%d'", r.Prefix)
	}
	s += attr("gateway", addr(r.Gateway))
	if m, ok := parseUint(r.Metric); ok && m > 0 {
		s += fmt.Sprintf(" metric='%d'", m)
	}
	w.line(s + "/>")
}

// DefaultNetworkXML returns the definition of libvirt's network
// "default" (its default.xml, in the form net-dumpxml writes) for the
// IPv4 subnet given: NAT, bridge virbr0 with STP and no delay, the
// subnet's first address for the host with a netmask, and DHCP from the
// second address to the last before the broadcast address. A zero,
// IPv6 or too small (longer than /30) subnet gives libvirt's own,
// 192.168.122.0/24. The definition has no UUID and no bridge MAC address;
// ParseNetwork generates them.
func DefaultNetworkXML(subnet netip.Prefix) string {
	if !subnet.IsValid() || !subnet.Addr().Is4() || subnet.Bits() > 30 {
		subnet = netip.MustParsePrefix("192.168.122.0/24")
	}
	subnet = subnet.Masked()
	host := subnet.Addr().Next()
	first := host.Next()
	last := lastAddr(subnet).Prev()
	m := ^uint32(0) << (32 - subnet.Bits())
	mask := netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
	return "<network>\n" +
		"  <name>default</name>\n" +
		"  <forward mode='nat'/>\n" +
		"  <bridge name='virbr0' stp='on' delay='0'/>\n" +
		"  <ip address='" + host.String() + "' netmask='" + mask.String() + "'>\n" +
		"    <dhcp>\n" +
		"      <range start='" + first.String() + "' end='" + last.String() + "'/>\n" +
		"    </dhcp>\n" +
		"  </ip>\n" +
		"</network>\n"
}
