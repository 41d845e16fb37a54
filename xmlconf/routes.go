package xmlconf

import (
	"strconv"

	"libvirt.org/go/libvirtxml"
)

// Route is a <route> as libvirt stores it. libvirtxml loses part of it:
// an interface route's prefix='0' (its Prefix is omitted when zero) and a
// capabilities net host device route's prefix, netmask and metric (its
// DomainRoute has no such fields). Domain keeps those on the side; the
// functions below give the whole route back.
type Route struct {
	Family  string
	Address string
	Netmask string
	Gateway string
	// Prefix is the prefix length; HasPrefix tells whether the document
	// gave one (prefix='0' is not the same as no prefix).
	Prefix    uint
	HasPrefix bool
	// Metric is the route metric; HasMetric tells whether one was given.
	Metric    uint
	HasMetric bool
}

// routeScope tells where a route is: an interface's guest routes, an
// ethernet interface's host-side routes, or a host device's routes.
type routeScope int

const (
	scopeGuest routeScope = iota
	scopeHost
	scopeHostdev
)

// routeKey identifies a route by where it is and what it says, so that the
// side table survives devices being added, removed or reordered.
type routeKey struct {
	scope   routeScope
	owner   string // host device interface name, for scopeHostdev
	family  string
	address string
	gateway string
}

// newRouteKey makes the key of a route, addresses in canonical form.
func newRouteKey(scope routeScope, owner, family, address, gateway string) routeKey {
	return routeKey{scope, owner, family, canonicalIP(address), canonicalIP(gateway)}
}

// routeExtra is what the model cannot hold of one route.
type routeExtra struct {
	prefix    uint
	hasPrefix bool
	netmask   string
	metric    uint
	hasMetric bool
}

// routeTable maps routes to their lost attributes.
type routeTable map[routeKey]routeExtra

// clone returns an independent copy of t.
func (t routeTable) clone() routeTable {
	if t == nil {
		return nil
	}
	out := make(routeTable, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// collectRoutes records the route attributes of the document that the
// model loses.
func collectRoutes(root *xnode) routeTable {
	t := routeTable{}
	devices := root.child("devices")
	if devices == nil {
		return t
	}
	for _, dev := range devices.elements() {
		switch dev.local {
		case "interface":
			addRoutes(t, dev, scopeGuest, "")
			if typ, _ := dev.attr("type"); typ == "ethernet" {
				if src := dev.child("source"); src != nil {
					addRoutes(t, src, scopeHost, "")
				}
			}
		case "hostdev":
			if src := dev.child("source"); src != nil {
				if ifc := src.child("interface"); ifc != nil {
					addRoutes(t, dev, scopeHostdev, xpathString(ifc))
				}
			}
		}
	}
	return t
}

// addRoutes records the <route> children of n.
func addRoutes(t routeTable, n *xnode, scope routeScope, owner string) {
	for _, r := range namedChildren(n, "route") {
		var extra routeExtra
		if p, ok := r.attr("prefix"); ok {
			v, err := strconv.ParseUint(p, 10, 32)
			extra.prefix, extra.hasPrefix = uint(v), err == nil
		}
		if m, ok := r.attr("metric"); ok {
			v, err := strconv.ParseUint(m, 10, 32)
			extra.metric, extra.hasMetric = uint(v), err == nil
		}
		extra.netmask, _ = r.attr("netmask")
		family, _ := r.attr("family")
		address, _ := r.attr("address")
		gateway, _ := r.attr("gateway")
		if scope != scopeHostdev && !(extra.hasPrefix && extra.prefix == 0) {
			continue
		}
		t[newRouteKey(scope, owner, family, address, gateway)] = extra
	}
}

// InterfaceRoutes returns the guest-side routes of iface with their real
// prefixes.
func (d *Domain) InterfaceRoutes(iface *libvirtxml.DomainInterface) []Route {
	return d.netRoutes(iface.Route, scopeGuest)
}

// HostRoutes returns the host-side routes (<source><route>) of an ethernet
// interface.
func (d *Domain) HostRoutes(iface *libvirtxml.DomainInterface) []Route {
	if iface.Source == nil || iface.Source.Ethernet == nil {
		return nil
	}
	return d.netRoutes(iface.Source.Ethernet.Route, scopeHost)
}

func (d *Domain) netRoutes(in []libvirtxml.DomainInterfaceRoute, scope routeScope) []Route {
	var out []Route
	for _, r := range in {
		prefix, has := d.routePrefix(r, scope)
		out = append(out, Route{
			Family: r.Family, Address: r.Address, Netmask: r.Netmask, Gateway: r.Gateway,
			Prefix: prefix, HasPrefix: has, Metric: r.Metric, HasMetric: r.Metric > 0,
		})
	}
	return out
}

// RoutePrefix returns the prefix of an interface route (guest side or
// ethernet host side) and whether the document gave one: libvirtxml keeps
// prefix='0' as Prefix 0, the same as no prefix.
func (d *Domain) RoutePrefix(r libvirtxml.DomainInterfaceRoute) (uint, bool) {
	if p, ok := d.routePrefix(r, scopeGuest); ok {
		return p, ok
	}
	return d.routePrefix(r, scopeHost)
}

func (d *Domain) routePrefix(r libvirtxml.DomainInterfaceRoute, scope routeScope) (uint, bool) {
	if r.Prefix != 0 {
		return r.Prefix, true
	}
	e, ok := d.routes[newRouteKey(scope, "", r.Family, r.Address, r.Gateway)]
	return 0, ok && e.hasPrefix
}

// HostdevRoutes returns the routes of a capabilities net host device with
// the attributes libvirtxml's DomainRoute has no room for.
func (d *Domain) HostdevRoutes(h *libvirtxml.DomainHostdev) []Route {
	if h.CapsNet == nil {
		return nil
	}
	owner := ""
	if h.CapsNet.Source != nil {
		owner = h.CapsNet.Source.Interface
	}
	var out []Route
	for _, r := range h.CapsNet.Route {
		e := d.routes[newRouteKey(scopeHostdev, owner, r.Family, r.Address, r.Gateway)]
		out = append(out, Route{
			Family: r.Family, Address: r.Address, Netmask: e.netmask, Gateway: r.Gateway,
			Prefix: e.prefix, HasPrefix: e.hasPrefix, Metric: e.metric, HasMetric: e.hasMetric,
		})
	}
	return out
}

// SetRoutePrefix records that the interface route r (guest side, or host
// side when host is set) has prefix length prefix, zero included. Use it
// when building or changing a definition in code.
func (d *Domain) SetRoutePrefix(r *libvirtxml.DomainInterfaceRoute, host bool, prefix uint) {
	r.Prefix = prefix
	if prefix != 0 {
		return
	}
	scope := scopeGuest
	if host {
		scope = scopeHost
	}
	d.setExtra(newRouteKey(scope, "", r.Family, r.Address, r.Gateway), routeExtra{hasPrefix: true})
}

// SetHostdevRoute records the prefix, netmask and metric of route r of a
// capabilities net host device whose interface is owner.
func (d *Domain) SetHostdevRoute(owner string, r libvirtxml.DomainRoute, extra Route) {
	d.setExtra(newRouteKey(scopeHostdev, owner, r.Family, r.Address, r.Gateway), routeExtra{
		prefix: extra.Prefix, hasPrefix: extra.HasPrefix, netmask: extra.Netmask,
		metric: extra.Metric, hasMetric: extra.HasMetric,
	})
}

func (d *Domain) setExtra(k routeKey, e routeExtra) {
	if d.routes == nil {
		d.routes = routeTable{}
	}
	d.routes[k] = e
}
