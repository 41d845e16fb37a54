package xmlconf

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// modelCapName and libvirtCapName translate the one capability name
// libvirtxml spells differently from libvirt (its DACReadSearch field is
// tagged "dac_read_Search").
func modelCapName(s string) string {
	if s == "dac_read_search" {
		return "dac_read_Search"
	}
	return s
}

func libvirtCapName(s string) string {
	if s == "dac_read_Search" {
		return "dac_read_search"
	}
	return s
}

// renameCapabilities renames the children of <features><capabilities>.
func renameCapabilities(root *xnode, rename func(string) string) {
	if caps := firstPath(root, []string{"features", "capabilities"}); caps != nil {
		for _, c := range caps.elements() {
			c.local = rename(c.local)
		}
	}
}

// modelTree returns the element tree of d as libvirtxml writes it, with
// the repairs that make it say what the model holds: the libvirt spelling
// of capability names, ethernet host-side sources libvirtxml skips, route
// attributes kept on the side, and the lxc: prefix.
func modelTree(d *Domain) (*node, error) {
	raw, err := xml.Marshal(d.Def)
	if err != nil {
		return nil, errf(ErrInternal, "encode the domain definition: %v", err)
	}
	root, err := readTree(raw)
	if err != nil {
		return nil, errf(ErrInternal, "reread the domain definition: %v", err)
	}
	prefixNamespaces(root, "", nil)
	if caps := nodePath(root, "features", "capabilities"); caps != nil {
		for _, c := range caps.children {
			c.name.Local = libvirtCapName(c.name.Local)
		}
	}
	if devs := nodePath(root, "devices"); devs != nil && d.Def.Devices != nil {
		if err := repairInterfaces(devs, d); err != nil {
			return nil, err
		}
		repairHostdevRoutes(devs, d)
	}
	return root, nil
}

// mustModelText writes the model of d; it is used to see what the model
// kept of a document.
func mustModelText(d *Domain) string {
	root, err := modelTree(d)
	if err != nil {
		return "<domain/>"
	}
	var b strings.Builder
	writeNode(&b, root, 0)
	return b.String()
}

// nodePath follows the first children named path from n.
func nodePath(n *node, path ...string) *node {
	for _, name := range path {
		var next *node
		for _, c := range n.children {
			if c.name.Local == name {
				next = c
				break
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// childrenNamed returns n's children named local.
func childrenNamed(n *node, local string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.name.Local == local && c.name.Space == "" {
			out = append(out, c)
		}
	}
	return out
}

// repairInterfaces puts back what libvirtxml does not write of interfaces:
// an ethernet <source> with only addresses or only routes, and prefix='0'
// on routes.
func repairInterfaces(devs *node, d *Domain) error {
	nodes := childrenNamed(devs, "interface")
	for i, n := range nodes {
		if i >= len(d.Def.Devices.Interfaces) {
			break
		}
		iface := &d.Def.Devices.Interfaces[i]
		if src := iface.Source; src != nil && src.Ethernet != nil && nodePath(n, "source") == nil &&
			(len(src.Ethernet.IP) > 0 || len(src.Ethernet.Route) > 0) {
			if err := insertEthernetSource(n, src.Ethernet); err != nil {
				return err
			}
		}
		addZeroPrefixes(n, d, scopeGuest)
		if src := nodePath(n, "source"); src != nil && iface.Source != nil && iface.Source.Ethernet != nil {
			addZeroPrefixes(src, d, scopeHost)
		}
	}
	return nil
}

// insertEthernetSource writes an ethernet interface's host-side addresses
// and routes as <source>, after <mac>.
func insertEthernetSource(n *node, eth *libvirtxml.DomainInterfaceSourceEthernet) error {
	wrapped := struct {
		XMLName xml.Name `xml:"source"`
		*libvirtxml.DomainInterfaceSourceEthernet
	}{DomainInterfaceSourceEthernet: eth}
	raw, err := xml.Marshal(wrapped)
	if err != nil {
		return errf(ErrInternal, "encode an interface source: %v", err)
	}
	src, err := readTree(raw)
	if err != nil {
		return errf(ErrInternal, "reread an interface source: %v", err)
	}
	at := 0
	if len(n.children) > 0 && n.children[0].name.Local == "mac" {
		at = 1
	}
	n.children = append(n.children[:at], append([]*node{src}, n.children[at:]...)...)
	return nil
}

// addZeroPrefixes adds prefix='0' to the <route> children of n that had it.
func addZeroPrefixes(n *node, d *Domain, scope routeScope) {
	for _, r := range childrenNamed(n, "route") {
		if _, ok := attrValue(r, "prefix"); ok {
			continue
		}
		family, _ := attrValue(r, "family")
		address, _ := attrValue(r, "address")
		gateway, _ := attrValue(r, "gateway")
		if e, ok := d.routes[newRouteKey(scope, "", family, address, gateway)]; ok && e.hasPrefix {
			setAttrValue(r, "prefix", "0")
		}
	}
}

// repairHostdevRoutes adds the netmask, prefix and metric of capabilities
// net host device routes, which libvirtxml's DomainRoute cannot hold.
func repairHostdevRoutes(devs *node, d *Domain) {
	for _, h := range childrenNamed(devs, "hostdev") {
		owner := ""
		if ifc := nodePath(h, "source", "interface"); ifc != nil {
			owner = ifc.text
		}
		for _, r := range childrenNamed(h, "route") {
			family, _ := attrValue(r, "family")
			address, _ := attrValue(r, "address")
			gateway, _ := attrValue(r, "gateway")
			e, ok := d.routes[newRouteKey(scopeHostdev, owner, family, address, gateway)]
			if !ok {
				continue
			}
			if e.netmask != "" {
				setAttrValue(r, "netmask", e.netmask)
			}
			if e.hasPrefix {
				setAttrValue(r, "prefix", strconv.FormatUint(uint64(e.prefix), 10))
			}
			if e.hasMetric && e.metric > 0 {
				setAttrValue(r, "metric", fmt.Sprint(e.metric))
			}
		}
	}
}

// attrValue returns the value of n's unqualified attribute name.
func attrValue(n *node, name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// setAttrValue sets (or appends) n's unqualified attribute name.
func setAttrValue(n *node, name, value string) {
	for i, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			n.attrs[i].Value = value
			return
		}
	}
	n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Local: name}, Value: value})
}

// removeAttrs removes n's unqualified attributes with the given names.
func removeAttrs(n *node, names ...string) {
	kept := n.attrs[:0]
	for _, a := range n.attrs {
		if a.Name.Space == "" && contains(names, a.Name.Local) {
			continue
		}
		kept = append(kept, a)
	}
	n.attrs = kept
}

// removeChildren removes n's children for which drop is true.
func removeChildren(n *node, drop func(*node) bool) {
	kept := n.children[:0]
	for _, c := range n.children {
		if !drop(c) {
			kept = append(kept, c)
		}
	}
	n.children = kept
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
