package driver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"

	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/netns"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// A container's network interfaces: built from <interface> and
// <hostdev type='net'> at start (the "network" step, while init still
// waits), recorded in the status file so that a later daemon can remove
// them, and removed when the container stops.

// netIface is one interface to plumb, with the network it uses, if any.
type netIface struct {
	iface   netns.Iface
	network string // for <interface type='network'>
}

// planInterfaces turns a definition's interfaces into links to create.
// Networks must be active; their bridges are looked up now.
func (d *Driver) planInterfaces(def *xmlconf.Domain) ([]netIface, error) {
	if err := xmlconf.ValidateInterfaces(def.Def); err != nil {
		return nil, xmlError(err)
	}
	specs, err := xmlconf.DomainInterfaceSpecs(def)
	if err != nil {
		return nil, xmlError(err)
	}
	out := make([]netIface, 0, len(specs))
	for _, spec := range specs {
		ni, err := d.interfaceFor(spec)
		if err != nil {
			return nil, err
		}
		out = append(out, ni)
	}
	return out, nil
}

// interfaceFor maps one interface spec to a link.
func (d *Driver) interfaceFor(spec xmlconf.InterfaceSpec) (netIface, error) {
	ni := netIface{iface: netns.Iface{
		HostName: spec.TargetDev, GuestName: spec.GuestDev, MTU: int(spec.MTU),
		Down: len(spec.IPs) == 0 && len(spec.Routes) == 0 && spec.LinkState != "up",
	}}
	if spec.MAC != "" {
		mac, err := net.ParseMAC(spec.MAC)
		if err != nil {
			return ni, errorf(KindInvalidMAC, "%s", spec.MAC)
		}
		ni.iface.MAC = mac
	}
	for _, ip := range spec.IPs {
		ni.iface.Addrs = append(ni.iface.Addrs, ip.Prefix)
	}
	ni.iface.Routes = routesOf(spec.Routes)
	if spec.VirtualPort != "" {
		return ni, errorf(KindConfigUnsupported, "virtual port type '%s' is not supported", spec.VirtualPort)
	}
	switch spec.Type {
	case xmlconf.IfaceBridge:
		ni.iface.Kind, ni.iface.Bridge = netns.Veth, spec.Bridge
	case xmlconf.IfaceNetwork:
		bridge, err := d.networkBridge(spec.Network)
		if err != nil {
			return ni, err
		}
		ni.iface.Kind, ni.iface.Bridge, ni.network = netns.Veth, bridge, spec.Network
	case xmlconf.IfaceEthernet:
		ni.iface.Kind = netns.Veth
		for _, ip := range spec.HostIPs {
			ni.iface.HostAddrs = append(ni.iface.HostAddrs, ip.Prefix)
		}
		ni.iface.HostRoutes = routesOf(spec.HostRoutes)
	case xmlconf.IfaceDirect:
		ni.iface.Kind, ni.iface.Parent, ni.iface.Mode = netns.Macvlan, spec.SourceDev, spec.Mode
	case xmlconf.IfaceHostdevNet:
		// As in libvirt, a host device keeps its name in the container.
		ni.iface.Kind, ni.iface.HostName, ni.iface.MAC = netns.HostDev, spec.SourceDev, nil
		if ni.iface.GuestName == "" {
			ni.iface.GuestName = spec.SourceDev
		}
	default:
		return ni, errorf(KindConfigUnsupported, "Unsupported network type %s", spec.Type)
	}
	return ni, nil
}

func routesOf(rs []xmlconf.InterfaceRoute) []netns.Route {
	var out []netns.Route
	for _, r := range rs {
		out = append(out, netns.Route{Dst: r.Destination, Gateway: r.Gateway, Metric: int(r.Metric)})
	}
	return out
}

// plumbError turns a plumbing failure into a driver error naming the
// domain.
func plumbError(name string, err error) error {
	switch {
	case errors.Is(err, netns.ErrNotExist):
		return errorf(KindOperationFailed, "start %s: %w", name, err)
	case errors.Is(err, netns.ErrInvalid):
		return errorf(KindConfigUnsupported, "%s: %w", name, err)
	}
	return errorf(KindSystem, "%s: network interfaces: %w", name, err)
}

// setupNetwork creates the container's interfaces inside its network
// namespace while init still waits, and records them.
func (s *starter) setupNetwork() error {
	if !s.plan.init.NetNS {
		return nil
	}
	plan, err := s.d.planInterfaces(s.def)
	if err != nil {
		return err
	}
	ifaces := make([]netns.Iface, len(plan))
	for i, ni := range plan {
		ifaces[i] = ni.iface
	}
	ns := netns.OfPID(s.rt.initPid)
	// The daemon holds the container's network namespace open, so that it
	// outlives init long enough for the host devices in it to be moved
	// back to the host when the container stops.
	nsFile, err := os.Open(string(ns))
	if err != nil {
		return errorf(KindSystem, "%s: open the network namespace: %w", s.dom.name, err)
	}
	p, err := netns.Setup(ns, ifaces)
	if err != nil {
		nsFile.Close()
		return plumbError(s.dom.name, err)
	}
	s.rt.net, s.rt.nsFile = p, nsFile
	s.undo = append(s.undo, func() {
		if err := p.Teardown(ns); err != nil {
			s.d.log.Error("remove interfaces of a failed start", "domain", s.dom.name, "err", err)
		}
		nsFile.Close()
	})
	for _, ni := range plan {
		if ni.network != "" {
			s.rt.networks = append(s.rt.networks, ni.network)
		}
	}
	return nil
}

// connectNetworks counts the domain's interfaces in the networks they use
// (net-dumpxml's connections), or uncounts them with delta -1.
func (d *Driver) connectNetworks(rt *runtime, delta int) {
	for _, n := range rt.networks {
		d.networkConnections(n, delta)
	}
}

// teardownNetwork removes a stopped container's interfaces.
func (d *Driver) teardownNetwork(name string, rt *runtime) {
	if rt.net == nil {
		return
	}
	ns := netns.OfPID(rt.initPid)
	if rt.nsFile != nil {
		ns = netns.NS(fmt.Sprintf("/proc/self/fd/%d", rt.nsFile.Fd()))
	}
	if err := rt.net.Teardown(ns); err != nil {
		d.log.Error("remove network interfaces", "domain", name, "err", err)
	}
	if rt.nsFile != nil {
		rt.nsFile.Close()
		rt.nsFile = nil
	}
	d.connectNetworks(rt, -1)
	rt.net, rt.networks = nil, nil
}

// interfaceDetails adds what only the running definition shows of each
// interface: host device name, actual guest name and alias. Interfaces
// and links are matched by MAC address (host devices by name), so the
// order survives live attaches and detaches.
func interfaceDetails(def *libvirtxml.Domain, rt *runtime) {
	if rt.net == nil {
		return
	}
	ifaces := devices(def).Interfaces
	used := map[string]bool{}
	for _, ifc := range ifaces {
		if ifc.Alias != nil {
			used[ifc.Alias.Name] = true
		}
	}
	for i := range ifaces {
		if l, ok := linkOf(rt.net, &ifaces[i]); ok {
			setLinkDetails(&ifaces[i], l, used)
		}
	}
	for i := range devices(def).Hostdevs {
		if h := &def.Devices.Hostdevs[i]; h.CapsNet != nil {
			h.Alias = &libvirtxml.DomainAlias{Name: fmt.Sprintf("hostdev%d", i)}
		}
	}
}

// linkOf finds the link made for an interface, by its MAC address.
func linkOf(p *netns.Plumbing, ifc *libvirtxml.DomainInterface) (netns.Link, bool) {
	if p == nil || ifc.MAC == nil {
		return netns.Link{}, false
	}
	want, err := net.ParseMAC(ifc.MAC.Address)
	if err != nil {
		return netns.Link{}, false
	}
	for _, l := range p.Links {
		if got, err := net.ParseMAC(l.MAC); err == nil && got.String() == want.String() {
			return l, true
		}
	}
	return netns.Link{}, false
}

func setLinkDetails(ifc *libvirtxml.DomainInterface, l netns.Link, usedAliases map[string]bool) {
	if l.Kind == netns.Veth && l.HostName != "" {
		ifc.Target = &libvirtxml.DomainInterfaceTarget{Dev: l.HostName}
	}
	if ifc.Guest == nil {
		ifc.Guest = &libvirtxml.DomainInterfaceGuest{}
	}
	ifc.Guest.Actual = l.GuestName
	if ifc.Alias == nil {
		n := 0
		for usedAliases[fmt.Sprintf("net%d", n)] {
			n++
		}
		name := fmt.Sprintf("net%d", n)
		usedAliases[name] = true
		ifc.Alias = &libvirtxml.DomainAlias{Name: name}
	}
}

// plumbingJSON and parsePlumbing keep a container's links in its status
// file.
func plumbingJSON(p *netns.Plumbing) string {
	if p == nil {
		return ""
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func parsePlumbing(s string) *netns.Plumbing {
	if s == "" {
		return nil
	}
	var p netns.Plumbing
	if json.Unmarshal([]byte(s), &p) != nil {
		return nil
	}
	return &p
}
