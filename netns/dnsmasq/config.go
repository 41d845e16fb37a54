package dnsmasq

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Range is one DHCP address range.
type Range struct {
	// Start and End are the first and last address handed out, both in
	// the same family.
	Start, End netip.Addr
	// Prefix is the length of the subnet's prefix (the netmask, for IPv4).
	Prefix int
	// Lease is the lease time: 0 means dnsmasq's default (one hour), a
	// negative value an infinite lease. dnsmasq's minimum is two minutes.
	Lease time.Duration
}

// Subnet returns the subnet the range belongs to.
func (r Range) Subnet() netip.Prefix {
	return netip.PrefixFrom(r.Start, r.Prefix).Masked()
}

// Host is a static DHCP assignment (libvirt's <dhcp><host>), a line of the
// dhcp-hostsfile.
type Host struct {
	// MAC identifies the client; it may be nil if Name does.
	MAC net.HardwareAddr
	// IP is the address the client gets.
	IP netip.Addr
	// Name is the host name given to the client and registered in DNS.
	Name string
}

// DNSHost is a line of the extra hosts file (libvirt's <dns><host>).
type DNSHost struct {
	// IP is the address the names resolve to.
	IP netip.Addr
	// Names are the host names.
	Names []string
}

// Forwarder is an upstream DNS server (libvirt's <dns><forwarder>).
type Forwarder struct {
	// Domain limits the forwarder to names in that domain; empty means
	// every name.
	Domain string
	// Addr is the server; if it is not valid, names in Domain are
	// answered locally and never forwarded.
	Addr netip.Addr
}

// Config is the DHCP and DNS set-up of one network.
type Config struct {
	// Name is the network's name, used in the file header and errors.
	Name string
	// Bridge is the interface dnsmasq serves.
	Bridge string
	// Domain is the DNS domain of the guests (domain=, expand-hosts).
	Domain string
	// LocalOnly answers names in Domain locally, never forwarding them.
	LocalOnly bool
	// Ranges are the DHCP ranges.
	Ranges []Range
	// Subnets are subnets on the bridge without a range: IPv4 ones serve
	// static Hosts only, IPv6 ones static Hosts, or only router
	// advertisements if they have no Hosts.
	Subnets []netip.Prefix
	// Hosts are static DHCP assignments.
	Hosts []Host
	// DNS enables the DNS server; without it dnsmasq does DHCP only
	// (port=0).
	DNS bool
	// DNSHosts are extra DNS names.
	DNSHosts []DNSHost
	// Forwarders are the upstream servers. When one without a Domain has
	// an address, /etc/resolv.conf is not read (no-resolv).
	Forwarders []Forwarder
	// NoUpstream stops dnsmasq from reading /etc/resolv.conf even
	// without forwarders, so it answers only what it knows.
	NoUpstream bool
	// NoGateway gives DHCP clients no default route (dhcp-option=3) and
	// advertises no IPv6 default router: libvirt does this for isolated
	// networks.
	NoGateway bool
	// ListenAddrs are extra addresses to listen on, besides the bridge.
	ListenAddrs []netip.Addr
	// User is the user dnsmasq drops to; empty means dnsmasq's default
	// (nobody on Debian). The files and their directory must be readable
	// by it, or Reload cannot re-read them.
	User string
	// LeaseFile, PidFile, HostsFile and AddnHostsFile are the paths of the
	// lease file, the pid file, the dhcp-hostsfile and the addn-hosts
	// file. [Start] fills in those left empty with files in its directory.
	LeaseFile, PidFile, HostsFile, AddnHostsFile string
	// LogFile, if set, is where dnsmasq logs instead of syslog.
	LogFile string
}

// ErrInvalid is wrapped by the errors [Config.Validate] returns.
var ErrInvalid = errors.New("invalid dnsmasq configuration")

// minLease is dnsmasq's shortest lease; it silently raises shorter ones.
const minLease = 2 * time.Minute

// Validate checks that c can be written as a dnsmasq configuration that
// means what it says: names and paths without characters dnsmasq would
// parse, ranges within one family and subnet, valid hosts.
func (c Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("%w: network %q: %w", ErrInvalid, c.Name, err)
	}
	return nil
}

func (c Config) validate() error {
	if err := checkIfname(c.Bridge); err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	if c.Domain != "" && !validDNSName(c.Domain) {
		return fmt.Errorf("bad domain %q", c.Domain)
	}
	for _, r := range c.Ranges {
		if err := checkRange(r); err != nil {
			return err
		}
	}
	for _, p := range c.Subnets {
		if !p.IsValid() || p.Addr().Is4In6() {
			return fmt.Errorf("bad subnet %v", p)
		}
	}
	if err := c.checkNames(); err != nil {
		return err
	}
	for _, a := range c.ListenAddrs {
		if !a.IsValid() {
			return errors.New("invalid listen address")
		}
	}
	return c.checkPaths()
}

func checkRange(r Range) error {
	if !r.Start.IsValid() || !r.End.IsValid() || r.Start.Is4() != r.End.Is4() || r.Start.Is4In6() || r.End.Is4In6() {
		return fmt.Errorf("bad DHCP range %v-%v", r.Start, r.End)
	}
	if r.End.Less(r.Start) {
		return fmt.Errorf("DHCP range %v-%v ends before it starts", r.Start, r.End)
	}
	if r.Prefix <= 0 || r.Prefix > r.Start.BitLen() || !r.Subnet().Contains(r.End) {
		return fmt.Errorf("DHCP range %v-%v is not within one /%d subnet", r.Start, r.End, r.Prefix)
	}
	if r.Lease > 0 && r.Lease < minLease {
		return fmt.Errorf("DHCP lease time %v is shorter than dnsmasq's minimum of %v", r.Lease, minLease)
	}
	return nil
}

func (c Config) checkNames() error {
	for _, h := range c.Hosts {
		if !h.IP.IsValid() || h.IP.Is4In6() {
			return fmt.Errorf("static host %q has no valid address", h.Name)
		}
		if h.MAC == nil && h.Name == "" {
			return fmt.Errorf("static host %v has neither MAC nor name", h.IP)
		}
		if h.Name != "" && !validDNSName(h.Name) {
			return fmt.Errorf("bad host name %q", h.Name)
		}
	}
	for _, h := range c.DNSHosts {
		if !h.IP.IsValid() || len(h.Names) == 0 {
			return fmt.Errorf("DNS host %v needs an address and a name", h.IP)
		}
		for _, n := range h.Names {
			if !validDNSName(n) {
				return fmt.Errorf("bad DNS host name %q", n)
			}
		}
	}
	for _, f := range c.Forwarders {
		if f.Domain != "" && !validDNSName(f.Domain) {
			return fmt.Errorf("bad forwarder domain %q", f.Domain)
		}
		if f.Domain == "" && !f.Addr.IsValid() {
			return errors.New("forwarder has neither domain nor address")
		}
	}
	if c.User != "" && !validDNSName(c.User) {
		return fmt.Errorf("bad user name %q", c.User)
	}
	return nil
}

func (c Config) checkPaths() error {
	for _, p := range []string{c.LeaseFile, c.PidFile, c.HostsFile, c.AddnHostsFile, c.LogFile} {
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) || strings.ContainsAny(p, " \t\"\\,#'") || hasControl(p) {
			return fmt.Errorf("path %q must be absolute, without spaces, quotes, backslashes, commas or #", p)
		}
	}
	return nil
}

// checkIfname accepts a Linux interface name.
func checkIfname(s string) error {
	if s == "" || len(s) > 15 || s == "." || s == ".." || strings.ContainsAny(s, "/\"\\,#'") || hasControl(s) || strings.Contains(s, " ") {
		return fmt.Errorf("bad interface name %q", s)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// validDNSName accepts host and domain names (letters, digits, '-', '_'
// and dots between labels) and user names, which fit the same pattern.
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// rangeSize is the number of addresses in r, capped at math.MaxInt32.
func rangeSize(r Range) int64 {
	a, b := new(big.Int).SetBytes(r.Start.AsSlice()), new(big.Int).SetBytes(r.End.AsSlice())
	n := new(big.Int).Sub(b, a)
	n.Add(n, big.NewInt(1))
	if !n.IsInt64() || n.Int64() > math.MaxInt32 {
		return math.MaxInt32
	}
	return n.Int64()
}
