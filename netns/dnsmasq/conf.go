package dnsmasq

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strings"
	"time"
)

// confHeader starts every generated configuration file, as libvirt's
// warning does.
const confHeader = `##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
##OVERWRITTEN AND LOST.  It is written by nsvirt whenever network %s starts.
##
## dnsmasq conf file created by nsvirt
`

// Conf returns the dnsmasq configuration file for c, modelled on the one
// libvirt writes: strict-order, bind-dynamic on the bridge only, the DHCP
// ranges with dhcp-no-override, dhcp-authoritative and dhcp-lease-max, the
// static hosts in a dhcp-hostsfile and extra names in addn-hosts. Unlike
// libvirt it keeps leases in a dhcp-leasefile rather than through a helper
// script. c should have passed [Config.Validate] and have its paths set.
func (c Config) Conf() string {
	var b strings.Builder
	fmt.Fprintf(&b, confHeader, quoteName(c.Name))
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("strict-order")
	if c.PidFile != "" {
		line("pid-file=%s", c.PidFile)
	}
	if c.User != "" {
		line("user=%s", c.User)
	}
	c.writeDNS(line)
	line("except-interface=lo")
	line("bind-dynamic")
	line("interface=%s", c.Bridge)
	for _, a := range c.ListenAddrs {
		line("listen-address=%s", a)
	}
	c.writeDHCP(line)
	if c.AddnHostsFile != "" {
		line("addn-hosts=%s", c.AddnHostsFile)
	}
	if c.LogFile != "" {
		line("log-facility=%s", c.LogFile)
	}
	return b.String()
}

// quoteName makes a network name safe for a comment line.
func quoteName(s string) string {
	if validDNSName(s) {
		return s
	}
	return fmt.Sprintf("%q", s)
}

func (c Config) writeDNS(line func(string, ...any)) {
	if !c.DNS {
		line("port=0")
		return
	}
	noResolv := c.NoUpstream
	for _, f := range c.Forwarders {
		switch {
		case f.Domain != "" && f.Addr.IsValid():
			line("server=/%s/%s", f.Domain, f.Addr)
		case f.Domain != "":
			line("server=/%s/", f.Domain)
		default:
			line("server=%s", f.Addr)
			noResolv = true
		}
	}
	if noResolv {
		line("no-resolv")
	}
	if c.Domain != "" {
		if c.LocalOnly {
			line("local=/%s/", c.Domain)
		}
		line("domain=%s", c.Domain)
		line("expand-hosts")
	}
}

func (c Config) writeDHCP(line func(string, ...any)) {
	ranges := c.rangeLines()
	if len(ranges) == 0 {
		return
	}
	for _, r := range ranges {
		line("dhcp-range=%s", r)
	}
	if c.hasIPv6() {
		line("enable-ra")
	}
	if c.NoGateway {
		line("dhcp-option=3")
		if c.hasIPv6() {
			line("ra-param=*,0,0")
		}
	}
	line("dhcp-no-override")
	line("dhcp-authoritative")
	line("dhcp-lease-max=%d", c.leaseMax())
	if c.LeaseFile != "" {
		line("dhcp-leasefile=%s", c.LeaseFile)
	}
	if c.HostsFile != "" {
		line("dhcp-hostsfile=%s", c.HostsFile)
	}
}

// rangeLines returns the values of the dhcp-range lines: the ranges, then
// the subnets that have none.
func (c Config) rangeLines() []string {
	var lines []string
	covered := map[netip.Prefix]bool{}
	for _, r := range c.Ranges {
		covered[r.Subnet()] = true
		l := fmt.Sprintf("%s,%s,%s", r.Start, r.End, mask(r.Start, r.Prefix))
		if lt := leaseTime(r.Lease); lt != "" {
			l += "," + lt
		}
		lines = append(lines, l)
	}
	for _, p := range c.Subnets {
		p = p.Masked()
		if covered[p] {
			continue
		}
		covered[p] = true
		switch mode := c.subnetMode(p); {
		case mode == "":
		case p.Addr().Is4():
			lines = append(lines, fmt.Sprintf("%s,%s,%s", p.Addr(), mode, mask(p.Addr(), p.Bits())))
		default:
			lines = append(lines, fmt.Sprintf("%s,%s,%d", p.Addr(), mode, p.Bits()))
		}
	}
	return lines
}

// subnetMode is how a subnet without a range is served: "static" if a
// static host is in it, "ra-only" for IPv6 without, "" for neither.
func (c Config) subnetMode(p netip.Prefix) string {
	for _, h := range c.Hosts {
		if p.Contains(h.IP) {
			return "static"
		}
	}
	if p.Addr().Is6() {
		return "ra-only"
	}
	return ""
}

func (c Config) hasIPv6() bool {
	for _, r := range c.Ranges {
		if r.Start.Is6() {
			return true
		}
	}
	for _, p := range c.Subnets {
		if p.Addr().Is6() {
			return true
		}
	}
	return false
}

// leaseMax is dhcp-lease-max: the size of the ranges, as libvirt counts
// it, or the number of static hosts for a network without ranges.
func (c Config) leaseMax() int64 {
	var n int64
	for _, r := range c.Ranges {
		n += rangeSize(r)
	}
	if n == 0 {
		n = int64(len(c.Hosts))
	}
	return max(1, min(n, math.MaxInt32))
}

// mask is the netmask of an IPv4 prefix length, or the length itself for
// IPv6, as dhcp-range wants them.
func mask(a netip.Addr, bits int) string {
	if a.Is6() {
		return fmt.Sprint(bits)
	}
	return net.IP(net.CIDRMask(bits, 32)).String()
}

// leaseTime writes a lease time in dnsmasq's syntax.
func leaseTime(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d < 0:
		return "infinite"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprint(int64(d.Round(time.Second) / time.Second))
}

// HostsFile returns the dhcp-hostsfile for hosts: one line per host,
// "MAC,IP,NAME" with the MAC or the name left out when absent, and IPv6
// addresses in brackets.
func HostsFile(hosts []Host) string {
	var b strings.Builder
	for _, h := range hosts {
		var fields []string
		if h.MAC != nil {
			fields = append(fields, h.MAC.String())
		}
		if h.MAC == nil && h.Name != "" {
			fields = append(fields, h.Name)
		}
		if h.IP.Is6() {
			fields = append(fields, "["+h.IP.String()+"]")
		} else {
			fields = append(fields, h.IP.String())
		}
		if h.MAC != nil && h.Name != "" {
			fields = append(fields, h.Name)
		}
		b.WriteString(strings.Join(fields, ",") + "\n")
	}
	return b.String()
}

// AddnHosts returns the addn-hosts file for hosts, in /etc/hosts format.
func AddnHosts(hosts []DNSHost) string {
	var b strings.Builder
	for _, h := range hosts {
		fmt.Fprintf(&b, "%s\t%s\n", h.IP, strings.Join(h.Names, " "))
	}
	return b.String()
}
