package nat

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// CheckSubnet refuses subnet p if it overlaps a route (in any routing
// table but the local one) or an address of the current network
// namespace, as libvirt does before it starts a network. Routes and
// addresses on ignoreDevs (the network's own bridge, when checking a
// network that is already up) are left out. The error is an
// [*OverlapError] when there is a collision.
func CheckSubnet(p netip.Prefix, ignoreDevs ...string) error {
	routes, err := HostRoutes()
	if err != nil {
		return fmt.Errorf("check subnet %s: %w", p, err)
	}
	routes = slices.DeleteFunc(routes, func(r HostRoute) bool { return slices.Contains(ignoreDevs, r.Dev) })
	return Overlaps(p, routes...)
}

// dumpTries is how often a netlink dump interrupted by a concurrent
// change is retried.
const dumpTries = 5

// HostRoutes returns the routes of every routing table but the local one,
// and the addresses, of the current network namespace.
func HostRoutes() ([]HostRoute, error) {
	var err error
	for range dumpTries {
		var routes []HostRoute
		routes, err = hostRoutes()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return routes, err
		}
	}
	return nil, err
}

func hostRoutes() ([]HostRoute, error) {
	names, err := linkNames()
	if err != nil {
		return nil, err
	}
	filter := &netlink.Route{Table: unix.RT_TABLE_UNSPEC}
	rs, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list host routes: %w", err)
	}
	var out []HostRoute
	for _, r := range rs {
		if r.Table == unix.RT_TABLE_LOCAL || !unicastLike(r.Type) {
			continue
		}
		if dst, ok := prefixOf(r.Dst); ok {
			out = append(out, HostRoute{Dst: dst, Dev: names[r.LinkIndex]})
		}
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list host addresses: %w", err)
	}
	for _, a := range addrs {
		if dst, ok := prefixOf(a.IPNet); ok {
			out = append(out, HostRoute{Dst: dst, Dev: names[a.LinkIndex], Address: true})
		}
	}
	return out, nil
}

// unicastLike keeps the route types that claim a destination: unicast,
// blackhole, unreachable and prohibit.
func unicastLike(t int) bool {
	switch t {
	case unix.RTN_UNICAST, unix.RTN_BLACKHOLE, unix.RTN_UNREACHABLE, unix.RTN_PROHIBIT:
		return true
	}
	return false
}

func linkNames() (map[int]string, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list host interfaces: %w", err)
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	return names, nil
}

// prefixOf converts a netlink destination; nil (a default route) gives
// false.
func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	ones, bits := n.Mask.Size()
	if bits == 0 {
		return netip.Prefix{}, false
	}
	if a.Is4() && bits == 128 {
		ones -= 96
	}
	return netip.PrefixFrom(a, ones), true
}
