package netns

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// NS names a network namespace by a file that refers to it: /proc/PID/ns/net
// for a process's namespace, or a bind mount such as /run/netns/NAME.
type NS string

// OfPID returns the network namespace of process pid.
//
// Once that process has exited the path may name another process's
// namespace; pass it only while the container's init is known to be alive.
func OfPID(pid int) NS { return NS("/proc/" + strconv.Itoa(pid) + "/ns/net") }

// Kind is how a container interface is made.
type Kind string

const (
	// Veth is a veth pair: the host end stays in the host's namespace,
	// attached to a bridge (libvirt's bridge and network interfaces) or
	// not (ethernet); the other end is the container's interface.
	Veth Kind = "veth"
	// Macvlan is a macvlan on a host parent device, created inside the
	// container (libvirt's direct interface).
	Macvlan Kind = "macvlan"
	// HostDev moves an existing host link into the container, and back
	// at teardown (libvirt's <hostdev mode='capabilities' type='net'>).
	// A move drops the link's addresses and routes; they are not restored
	// when it returns.
	HostDev Kind = "hostdev"
)

// Iface is one container interface to create.
type Iface struct {
	Kind Kind

	// HostName is, for Veth, the name of the host end; "" picks the first
	// free vnetN. For HostDev it names the host link to move. Macvlan
	// ignores it: the macvlan is made inside the container.
	HostName string
	// Bridge is, for Veth, the Linux bridge to attach the host end to; ""
	// leaves it unattached (libvirt's type='ethernet').
	Bridge string
	// Parent is, for Macvlan, the host device to stack the macvlan on.
	Parent string
	// Mode is, for Macvlan, one of "bridge", "vepa" (the default, as in
	// libvirt), "private" or "passthru" (also spelt "passthrough").
	Mode string

	// GuestName is the name inside the container; "" picks the first ethN
	// that the container and the other interfaces leave free.
	GuestName string
	// MAC is the guest-side address; nil lets the kernel pick one. A
	// HostDev keeps its own address and must leave MAC nil. A Veth's host
	// end gets the same address with 0xfe as first byte, so that a bridge,
	// which takes the lowest address of its ports, never takes it.
	MAC net.HardwareAddr
	// MTU of both ends; 0 means the bridge's MTU for a Veth on a bridge,
	// the parent's for a Macvlan, and the kernel default otherwise.
	MTU int
	// Down leaves the guest side down. libvirt brings a container
	// interface up only when it has addresses or <link state='up'/>.
	// Routes need the link up, so Down with Routes is invalid.
	Down bool

	// Addrs and Routes are configured inside the container.
	Addrs  []netip.Prefix
	Routes []Route
	// HostAddrs and HostRoutes are configured on the host end of an
	// unattached Veth (libvirt's ethernet <source><ip/><route/>).
	HostAddrs  []netip.Prefix
	HostRoutes []Route
}

// Route is a route through an interface.
type Route struct {
	// Dst is the destination; the zero Prefix means the default route of
	// Gateway's family.
	Dst netip.Prefix
	// Gateway is the next hop; the zero Addr makes a route to a directly
	// connected destination.
	Gateway netip.Addr
	// Metric is the route's priority; 0 is the kernel default.
	Metric int
}

// macvlanModes maps the accepted Iface.Mode spellings to themselves or
// their canonical form.
var macvlanModes = map[string]string{
	"":            "vepa",
	"vepa":        "vepa",
	"bridge":      "bridge",
	"private":     "private",
	"passthru":    "passthru",
	"passthrough": "passthru",
}

// validate checks what can be checked of it without looking at the host.
func (it *Iface) validate() error {
	switch it.Kind {
	case Veth:
		if it.Parent != "" || it.Mode != "" {
			return fmt.Errorf("a veth has no parent device or mode")
		}
		if it.Bridge != "" {
			if err := checkName("bridge", it.Bridge); err != nil {
				return err
			}
		}
		if it.HostName != "" {
			if err := checkName("host name", it.HostName); err != nil {
				return err
			}
		}
	case Macvlan:
		if err := checkName("parent device", it.Parent); err != nil {
			return err
		}
		if _, ok := macvlanModes[it.Mode]; !ok {
			return fmt.Errorf("unknown macvlan mode %q", it.Mode)
		}
	case HostDev:
		if err := checkName("host device", it.HostName); err != nil {
			return err
		}
		if it.HostName == "lo" {
			return fmt.Errorf("the loopback device cannot be moved")
		}
		if it.MAC != nil {
			return fmt.Errorf("a host device keeps its own MAC address")
		}
	default:
		return fmt.Errorf("unknown kind %q", it.Kind)
	}
	if it.Kind != Veth && it.Bridge != "" {
		return fmt.Errorf("only a veth can be attached to a bridge")
	}
	if (it.Kind != Veth || it.Bridge != "") && (len(it.HostAddrs) > 0 || len(it.HostRoutes) > 0) {
		return fmt.Errorf("host addresses and routes need an unattached veth")
	}
	if it.GuestName != "" {
		if err := checkName("guest name", it.GuestName); err != nil {
			return err
		}
		if it.GuestName == "lo" {
			return fmt.Errorf("guest name \"lo\" is the container's loopback")
		}
	}
	if it.MAC != nil {
		if len(it.MAC) != 6 {
			return fmt.Errorf("MAC address %s is not 6 bytes", it.MAC)
		}
		if it.MAC[0]&1 != 0 {
			return fmt.Errorf("MAC address %s is multicast", it.MAC)
		}
	}
	if it.MTU != 0 && (it.MTU < 68 || it.MTU > 65535) {
		return fmt.Errorf("MTU %d is out of range 68-65535", it.MTU)
	}
	if it.Down && len(it.Routes) > 0 {
		return fmt.Errorf("routes need the interface up")
	}
	if err := checkAddrs(it.Addrs); err != nil {
		return err
	}
	if err := checkAddrs(it.HostAddrs); err != nil {
		return err
	}
	if err := checkRoutes(it.Routes); err != nil {
		return err
	}
	return checkRoutes(it.HostRoutes)
}

// checkName applies the kernel's rules for a link name (dev_valid_name),
// and refuses '%', which the kernel would take as a name pattern.
func checkName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("no %s", what)
	case len(name) > 15:
		return fmt.Errorf("%s %q is longer than 15 bytes", what, name)
	case name == "." || name == "..":
		return fmt.Errorf("%s %q is not a valid link name", what, name)
	case strings.ContainsAny(name, "/:% \t\n\v\f\r"):
		return fmt.Errorf("%s %q contains a character not allowed in a link name", what, name)
	}
	return nil
}

func checkAddrs(addrs []netip.Prefix) error {
	for _, a := range addrs {
		if !a.IsValid() || a.Addr().Is4In6() {
			return fmt.Errorf("bad address %s", a)
		}
	}
	return nil
}

func checkRoutes(routes []Route) error {
	for _, r := range routes {
		if err := r.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (r Route) validate() error {
	if !r.Dst.IsValid() && !r.Gateway.IsValid() {
		return fmt.Errorf("route %s: no destination and no gateway", r)
	}
	if r.Dst.IsValid() && r.Gateway.IsValid() && r.Dst.Addr().Is4() != r.Gateway.Is4() {
		return fmt.Errorf("route %s: destination and gateway are of different families", r)
	}
	if r.Dst.Addr().Is4In6() || r.Gateway.Is4In6() || r.Gateway.Zone() != "" {
		return fmt.Errorf("route %s: bad address", r)
	}
	if r.Metric < 0 {
		return fmt.Errorf("route %s: negative metric", r)
	}
	return nil
}

// dst is the route's destination, the default route of the gateway's
// family when none is given.
func (r Route) dst() netip.Prefix {
	if r.Dst.IsValid() {
		return r.Dst.Masked()
	}
	if r.Gateway.Is4() {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
}

// String formats r like `ip route`: "10.0.0.0/8 via 10.1.1.1 metric 5".
func (r Route) String() string {
	var b strings.Builder
	if r.Dst.IsValid() {
		b.WriteString(r.Dst.String())
	} else {
		b.WriteString("default")
	}
	if r.Gateway.IsValid() {
		b.WriteString(" via " + r.Gateway.String())
	}
	if r.Metric != 0 {
		b.WriteString(" metric " + strconv.Itoa(r.Metric))
	}
	return b.String()
}

// validateAll checks every interface and that no two of them share a host
// or guest name; taken holds guest names already in use in the container.
func validateAll(ifaces []Iface, taken map[string]bool) error {
	hosts := map[string]bool{}
	guests := map[string]bool{}
	for i := range ifaces {
		it := &ifaces[i]
		if err := it.validate(); err != nil {
			return fmt.Errorf("%w interface %s: %w", ErrInvalid, it.label(i), err)
		}
		if it.HostName != "" && it.Kind != Macvlan {
			if hosts[it.HostName] {
				return fmt.Errorf("%w interface %s: host name %q is used twice", ErrInvalid, it.label(i), it.HostName)
			}
			hosts[it.HostName] = true
		}
		if it.GuestName != "" {
			if guests[it.GuestName] || taken[it.GuestName] {
				return fmt.Errorf("%w interface %s: guest name %q is taken", ErrInvalid, it.label(i), it.GuestName)
			}
			guests[it.GuestName] = true
		}
	}
	return nil
}

// label names an interface in messages: its guest name, else its host
// name, else its position.
func (it *Iface) label(i int) string {
	switch {
	case it.GuestName != "":
		return it.GuestName
	case it.HostName != "" && it.Kind != Macvlan:
		return it.HostName
	}
	return "#" + strconv.Itoa(i)
}

// nextName returns prefix followed by the smallest number that makes a
// name not in used.
func nextName(prefix string, used map[string]bool) string {
	for n := 0; ; n++ {
		name := prefix + strconv.Itoa(n)
		if !used[name] {
			return name
		}
	}
}

// hostMAC is the address of a veth's host end for guest address mac, as
// libvirt makes it: the same with 0xfe as first byte, so that a bridge,
// which takes the lowest address of its ports, does not take it.
func hostMAC(mac net.HardwareAddr) net.HardwareAddr {
	if mac == nil {
		return nil
	}
	h := append(net.HardwareAddr(nil), mac...)
	h[0] = 0xfe
	return h
}

// ipNet converts a prefix to the form netlink takes, keeping the host bits.
func ipNet(p netip.Prefix) *net.IPNet {
	bits := 128
	if p.Addr().Is4() {
		bits = 32
	}
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), bits)}
}

// prefixOf converts a netlink address back; ok is false for a malformed one.
func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}
