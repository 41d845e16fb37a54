package nat

import (
	"fmt"
	"net/netip"
)

// HostRoute is a host route or address that a network's subnet must not
// overlap.
type HostRoute struct {
	// Dst is the route's destination, or for an address the address with
	// its prefix length (not masked).
	Dst netip.Prefix
	// Dev is the interface the route goes through or the address is on,
	// empty if none (blackhole and unreachable routes).
	Dev string
	// Address says that Dst is an address configured on Dev, not a route.
	Address bool
}

// OverlapError is the error [Overlaps] and [CheckSubnet] return when a
// subnet collides with a host route or address.
type OverlapError struct {
	// Subnet is the network's subnet.
	Subnet netip.Prefix
	// Route is the first host route or address it overlaps.
	Route HostRoute
}

// Error reads like "network 10.0.0.0/24 overlaps the host route 10.0.0.0/8
// dev eth0".
func (e *OverlapError) Error() string {
	what := "route"
	if e.Route.Address {
		what = "address"
	}
	msg := fmt.Sprintf("network %s overlaps the host %s %s", e.Subnet, what, e.Route.Dst)
	switch {
	case e.Route.Dev == "":
	case e.Route.Address:
		msg += " on " + e.Route.Dev
	default:
		msg += " dev " + e.Route.Dev
	}
	return msg
}

// Overlaps returns an [*OverlapError] naming the first of routes that
// overlaps subnet p, and nil if none does. Default routes (prefix length
// 0) and IPv6 link-local and multicast routes and addresses are ignored:
// every host has them and they never collide with a real network.
func Overlaps(p netip.Prefix, routes ...HostRoute) error {
	p = p.Masked()
	for _, r := range routes {
		if ignoredRoute(r) {
			continue
		}
		if p.Overlaps(r.Dst.Masked()) {
			return &OverlapError{Subnet: p, Route: r}
		}
	}
	return nil
}

// linkLocal6 and multicast6 are IPv6 ranges present on every host.
var (
	linkLocal6 = netip.MustParsePrefix("fe80::/10")
	multicast6 = netip.MustParsePrefix("ff00::/8")
)

func ignoredRoute(r HostRoute) bool {
	if !r.Dst.IsValid() || r.Dst.Bits() == 0 {
		return true
	}
	a := r.Dst.Masked().Addr()
	return a.Is6() && (linkLocal6.Contains(a) || multicast6.Contains(a))
}
