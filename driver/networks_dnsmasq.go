package driver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/netns/dnsmasq"
	"github.com/nsvirt/nsvirt/netns/nat"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// natNetwork translates a network with a bridge of its own for the
// firewall. The SNAT address ranges of <nat><address> are refused: the
// firewall only masquerades.
func natNetwork(def *xmlconf.Network) (nat.Network, error) {
	n := nat.Network{Name: def.Def.Name, Bridge: bridgeOf(def), Subnets: xmlconf.Subnets(def)}
	fwd := def.Def.Forward
	if fwd == nil {
		return n, nil
	}
	switch fwd.Mode {
	case "", "nat":
		n.Mode = nat.NAT
	case "route":
		n.Mode = nat.Route
	case "open":
		n.Mode = nat.Open
	}
	n.OutDev = fwd.Dev
	if fwd.NAT != nil {
		if len(fwd.NAT.Addresses) > 0 {
			return n, unsupportedNet(def, "<nat><address> (SNAT address ranges)")
		}
		if len(fwd.NAT.Ports) > 0 {
			n.Ports = nat.PortRange{Start: uint16(fwd.NAT.Ports[0].Start), End: uint16(fwd.NAT.Ports[0].End)}
		}
		n.NAT6 = fwd.NAT.IPv6 == "yes"
	}
	return n, nil
}

func unsupportedNet(def *xmlconf.Network, what string) error {
	return errorf(KindConfigUnsupported, "%s in network '%s' is not supported by this driver", what, def.Def.Name)
}

// dnsmasqConfig translates a network's DHCP and DNS set-up, and reports
// whether it needs dnsmasq at all: as in libvirt, a network with an
// address needs it unless DNS is disabled and no <ip> has DHCP ranges or
// hosts. What dnsmasq's configuration cannot express (TXT and SRV
// records, forwarder ports, TFTP, BOOTP, DHCPv6 host IDs) is refused.
func dnsmasqConfig(def *xmlconf.Network) (dnsmasq.Config, bool, error) {
	d := def.Def
	cfg := dnsmasq.Config{Name: d.Name, Bridge: bridgeOf(def), DNS: d.DNS == nil || d.DNS.Enable != "no"}
	if d.Forward == nil {
		cfg.NoGateway, cfg.NoUpstream = true, true // isolated: no route, no channel out
	}
	if d.Domain != nil {
		cfg.Domain, cfg.LocalOnly = d.Domain.Name, d.Domain.LocalOnly == "yes"
	}
	dhcp := false
	for _, ip := range d.IPs {
		has, err := addDHCP(&cfg, def, ip)
		if err != nil {
			return cfg, false, err
		}
		dhcp = dhcp || has
	}
	if err := addDNS(&cfg, def); err != nil {
		return cfg, false, err
	}
	needed := len(d.IPs) > 0 && (dhcp || cfg.DNS)
	if needed && hasOwnBridge(def) {
		if err := cfg.Validate(); err != nil {
			return cfg, false, errorf(KindConfigUnsupported, "%w", err)
		}
	}
	return cfg, needed, nil
}

// addDHCP adds one <ip> element: its ranges, or its subnet, and its
// static hosts. It reports whether the element has DHCP.
func addDHCP(cfg *dnsmasq.Config, def *xmlconf.Network, ip libvirtxml.NetworkIP) (bool, error) {
	addrs := bridgeAddrs(&xmlconf.Network{Def: &libvirtxml.Network{IPs: []libvirtxml.NetworkIP{ip}}})
	if len(addrs) == 0 {
		return false, nil
	}
	subnet := addrs[0]
	if ip.TFTP != nil {
		return false, unsupportedNet(def, "<tftp>")
	}
	dh := ip.DHCP
	if dh == nil || len(dh.Ranges)+len(dh.Hosts) == 0 {
		cfg.Subnets = append(cfg.Subnets, subnet.Masked())
		return false, nil
	}
	if len(dh.Bootp) > 0 {
		return false, unsupportedNet(def, "<bootp>")
	}
	for _, r := range dh.Ranges {
		start, err1 := netip.ParseAddr(r.Start)
		end, err2 := netip.ParseAddr(r.End)
		if err := errors.Join(err1, err2); err != nil {
			return false, errorf(KindXML, "DHCP range in network '%s': %w", def.Def.Name, err)
		}
		cfg.Ranges = append(cfg.Ranges, dnsmasq.Range{Start: start, End: end, Prefix: subnet.Bits(), Lease: leaseTime(r.Lease)})
	}
	if len(dh.Ranges) == 0 {
		cfg.Subnets = append(cfg.Subnets, subnet.Masked())
	}
	for _, h := range dh.Hosts {
		host, err := dhcpHost(def, h)
		if err != nil {
			return false, err
		}
		cfg.Hosts = append(cfg.Hosts, host)
	}
	return true, nil
}

func dhcpHost(def *xmlconf.Network, h libvirtxml.NetworkDHCPHost) (dnsmasq.Host, error) {
	if h.ID != "" {
		return dnsmasq.Host{}, unsupportedNet(def, "<host id> (DHCPv6 client DUIDs)")
	}
	ip, err := netip.ParseAddr(h.IP)
	if err != nil {
		return dnsmasq.Host{}, unsupportedNet(def, "a DHCP <host> without an ip")
	}
	host := dnsmasq.Host{IP: ip, Name: h.Name}
	if h.MAC != "" {
		if host.MAC, err = net.ParseMAC(h.MAC); err != nil {
			return dnsmasq.Host{}, errorf(KindXML, "invalid MAC address '%s' in network '%s'", h.MAC, def.Def.Name)
		}
	}
	return host, nil
}

// leaseTime converts a <lease> to dnsmasq's: none means dnsmasq's default,
// expiry 0 an infinite lease.
func leaseTime(l *libvirtxml.NetworkDHCPLease) time.Duration {
	if l == nil {
		return 0
	}
	if l.Expiry == 0 {
		return -1
	}
	unit := time.Minute
	switch l.Unit {
	case "seconds":
		unit = time.Second
	case "hours":
		unit = time.Hour
	}
	return time.Duration(l.Expiry) * unit
}

// addDNS adds <dns>: extra host names and forwarders.
func addDNS(cfg *dnsmasq.Config, def *xmlconf.Network) error {
	dns := def.Def.DNS
	if dns == nil {
		return nil
	}
	switch {
	case len(dns.TXTs) > 0:
		return unsupportedNet(def, "<dns><txt>")
	case len(dns.SRVs) > 0:
		return unsupportedNet(def, "<dns><srv>")
	}
	for _, h := range dns.Host {
		ip, err := netip.ParseAddr(h.IP)
		if err != nil {
			return errorf(KindXML, "invalid DNS host address '%s' in network '%s'", h.IP, def.Def.Name)
		}
		dh := dnsmasq.DNSHost{IP: ip}
		for _, n := range h.Hostnames {
			dh.Names = append(dh.Names, n.Hostname)
		}
		cfg.DNSHosts = append(cfg.DNSHosts, dh)
	}
	for _, f := range dns.Forwarders {
		if f.Port != 0 {
			return unsupportedNet(def, "<dns><forwarder port>")
		}
		fw := dnsmasq.Forwarder{Domain: f.Domain}
		if f.Addr != "" {
			a, err := netip.ParseAddr(f.Addr)
			if err != nil {
				return errorf(KindXML, "invalid forwarder address '%s' in network '%s'", f.Addr, def.Def.Name)
			}
			fw.Addr = a
		}
		cfg.Forwarders = append(cfg.Forwarders, fw)
	}
	return nil
}

// dnsmasqDir is the directory of a network's dnsmasq files, which lives
// as long as the network runs. The name is escaped (every byte but ASCII
// letters, digits, '-' and '_' as '.' and two hex digits): dnsmasq cannot
// take every path, and a network may be called "..".
func (r *networks) dnsmasqDir(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if plainByte(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, ".%02x", c)
		}
	}
	return filepath.Join(r.stateDir, "dnsmasq", b.String())
}

func plainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// networkOfDnsmasqDir reverses dnsmasqDir's escaping of a directory's base
// name; false if it is not one dnsmasqDir makes.
func networkOfDnsmasqDir(base string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(base); i++ {
		c := base[i]
		if plainByte(c) {
			b.WriteByte(c)
			continue
		}
		var v byte
		if c != '.' || i+2 >= len(base) || !isHex(base[i+1]) || !isHex(base[i+2]) {
			return "", false
		}
		fmt.Sscanf(base[i+1:i+3], "%02x", &v)
		b.WriteByte(v)
		i += 2
	}
	return b.String(), base != ""
}

// ensureStateDir creates STATE_DIR/network.
func (r *networks) ensureStateDir() error {
	if err := os.MkdirAll(r.stateDir, 0o755); err != nil {
		return err
	}
	return os.Chmod(r.stateDir, 0o755)
}

// prepareDnsmasqDir creates a network's dnsmasq directory. dnsmasq drops
// to user nobody and then reads its hosts files, so the directories on the
// way must be searchable by others: STATE_DIR (0700 as libvirt makes it)
// gets the search bit, not the read bit, so its contents stay unlisted and
// its files keep their own modes. It reports whether it changed STATE_DIR.
func (r *networks) prepareDnsmasqDir(dir string) (opened bool, err error) {
	parent := filepath.Dir(r.stateDir)
	fi, err := os.Stat(parent)
	if err != nil {
		return false, err
	}
	if fi.Mode().Perm()&0o001 == 0 {
		if err := os.Chmod(parent, fi.Mode().Perm()|0o011); err != nil {
			return false, err
		}
		opened = true
	}
	for _, p := range []string{filepath.Dir(dir), dir} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return opened, err
		}
		if err := os.Chmod(p, 0o755); err != nil {
			return opened, err
		}
	}
	return opened, nil
}

// unsearchable returns the first directory on the way to dir that others
// cannot search, "" if there is none. dnsmasq reads its hosts files after
// dropping to user nobody, at start and on every reload, and cannot read
// them below such a directory.
func unsearchable(dir string) string {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return p
		}
		if p == "/" {
			return ""
		}
	}
}

// removeDnsmasqDir removes the dnsmasq directory of a network that
// stopped (its leases go with it, so that nothing of a stopped network is
// left in the state directory), and the parent directories once empty.
func (d *Driver) removeDnsmasqDir(name string) error {
	dir := d.nets.dnsmasqDir(name)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	d.nets.pruneStateDir()
	return nil
}

// pruneStateDir removes STATE_DIR/network/dnsmasq and STATE_DIR/network
// when nothing is left in them.
func (r *networks) pruneStateDir() {
	os.Remove(filepath.Join(r.stateDir, "dnsmasq"))
	os.Remove(r.stateDir)
}
