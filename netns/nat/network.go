package nat

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Mode is a network's forward mode, as in libvirt's <forward mode=…>.
type Mode int

// Forward modes.
const (
	// Isolated networks reach neither the host's other interfaces nor the
	// outside: forwarding to and from the bridge is rejected, traffic
	// between guests on the bridge is allowed. libvirt: no <forward>.
	Isolated Mode = iota
	// NAT masquerades the subnets' traffic leaving the host and lets only
	// replies back in.
	NAT
	// Route forwards the subnets' traffic both ways without translation.
	Route
	// Open adds no rules at all; the network's table stays empty.
	Open
)

// String returns libvirt's name for the mode ("none" for Isolated).
func (m Mode) String() string {
	switch m {
	case Isolated:
		return "none"
	case NAT:
		return "nat"
	case Route:
		return "route"
	case Open:
		return "open"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Forwards reports whether the mode needs IP forwarding on the host.
func (m Mode) Forwards() bool { return m == NAT || m == Route || m == Open }

// PortRange limits the source ports masquerading picks for TCP and UDP
// (libvirt's <nat><port start end/>). The zero value means libvirt's
// default, 1024-65535.
type PortRange struct {
	Start, End uint16
}

// defaultPorts is the port range used when [Network.Ports] is zero.
var defaultPorts = PortRange{Start: 1024, End: 65535}

// Network is what this package needs to know of one virtual network.
type Network struct {
	// Name is the network's name; it names the nftables table.
	Name string
	// Bridge is the host bridge the network's guests are attached to.
	Bridge string
	// Subnets are the network's IPv4 and IPv6 subnets (the bridge's
	// addresses, masked).
	Subnets []netip.Prefix
	// Mode is the forward mode.
	Mode Mode
	// OutDev, if set, restricts forwarding and masquerading to this
	// host interface (libvirt's <forward dev=…>).
	OutDev string
	// Ports is the masquerading source port range for TCP and UDP.
	Ports PortRange
	// NAT6 masquerades the IPv6 subnets too (libvirt's <nat ipv6='yes'/>);
	// by default IPv6 is routed, not translated, in NAT mode.
	NAT6 bool
}

// tablePrefix starts the name of every table this package creates.
const tablePrefix = "nsvirt-"

// maxTableName is the kernel's limit on a table name, without the NUL.
const maxTableName = 255

// ErrInvalid is wrapped by the errors [Network.Validate] returns.
var ErrInvalid = errors.New("invalid network")

// Validate checks that n can be turned into a ruleset: a name, a bridge
// and an out device that are safe to quote, subnets that are valid and
// masked, and a sensible port range.
func (n Network) Validate() error {
	if n.Name == "" {
		return fmt.Errorf("%w: empty name", ErrInvalid)
	}
	if len(Table(n.Name)) > maxTableName {
		return fmt.Errorf("%w: network %q: name too long for an nftables table", ErrInvalid, n.Name)
	}
	if err := checkIfname(n.Bridge); err != nil {
		return fmt.Errorf("%w: network %q: bridge: %w", ErrInvalid, n.Name, err)
	}
	if n.OutDev != "" {
		if err := checkIfname(n.OutDev); err != nil {
			return fmt.Errorf("%w: network %q: forward dev: %w", ErrInvalid, n.Name, err)
		}
	}
	for _, p := range n.Subnets {
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			return fmt.Errorf("%w: network %q: subnet %v is not a masked IPv4 or IPv6 prefix", ErrInvalid, n.Name, p)
		}
	}
	if n.Ports != (PortRange{}) && (n.Ports.Start == 0 || n.Ports.Start > n.Ports.End) {
		return fmt.Errorf("%w: network %q: port range %d-%d", ErrInvalid, n.Name, n.Ports.Start, n.Ports.End)
	}
	if n.Mode < Isolated || n.Mode > Open {
		return fmt.Errorf("%w: network %q: unknown forward mode %d", ErrInvalid, n.Name, int(n.Mode))
	}
	return nil
}

// checkIfname accepts a Linux interface name that can be written inside
// double quotes in an nft script.
func checkIfname(s string) error {
	if s == "" {
		return errors.New("empty interface name")
	}
	if len(s) > 15 {
		return fmt.Errorf("interface name %q longer than 15 bytes", s)
	}
	if s == "." || s == ".." || strings.ContainsAny(s, "/\"\\") {
		return fmt.Errorf("bad interface name %q", s)
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f {
			return fmt.Errorf("bad interface name %q", s)
		}
	}
	return nil
}

// Table returns the name of the nftables table (family inet) that holds
// network name's rules: "nsvirt-" followed by the name, with every byte
// other than ASCII letters, digits, '-' and '_' written as '.' and two hex
// digits, so that any network name gives a valid nft identifier and
// [NetworkOfTable] can reverse it.
func Table(name string) string {
	var b strings.Builder
	b.WriteString(tablePrefix)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isPlain(c) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, ".%02x", c)
	}
	return b.String()
}

// NetworkOfTable returns the network name that [Table] turned into table,
// and false if table is not one of this package's tables.
func NetworkOfTable(table string) (string, bool) {
	rest, ok := strings.CutPrefix(table, tablePrefix)
	if !ok || rest == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if isPlain(c) {
			b.WriteByte(c)
			continue
		}
		if c != '.' || i+2 >= len(rest) {
			return "", false
		}
		hi, ok1 := unhex(rest[i+1])
		lo, ok2 := unhex(rest[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), true
}

func isPlain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
