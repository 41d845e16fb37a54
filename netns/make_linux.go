package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// plan is an Iface with its names chosen and the host links it needs
// looked up.
type plan struct {
	Iface
	autoName bool // HostName was chosen here, and may be chosen again
	mtu      int
	master   int          // bridge ifindex
	parent   int          // macvlan parent ifindex
	dev      netlink.Link // host device to move
}

// plan validates ifaces against each other, the container and the host,
// and chooses the names left empty. It changes nothing.
func (s *session) plan(ifaces []Iface) ([]plan, error) {
	guests, err := linkNames(s.guest)
	if err != nil {
		return nil, fmt.Errorf("container: %w", err)
	}
	if err := validateAll(ifaces, guests); err != nil {
		return nil, err
	}
	var hosts map[string]bool // listed only if a name must be chosen
	plans := make([]plan, len(ifaces))
	for i, it := range ifaces {
		pl := &plans[i]
		pl.Iface = it
		pl.mtu = it.MTU
		if it.GuestName != "" {
			guests[it.GuestName] = true
		}
		if it.Kind == Veth && it.HostName == "" {
			if hosts == nil {
				if hosts, err = linkNames(s.host); err != nil {
					return nil, err
				}
				for _, other := range ifaces {
					hosts[other.HostName] = true
				}
			}
			pl.HostName, pl.autoName = nextName("vnet", hosts), true
			hosts[pl.HostName] = true
		}
		if err := s.resolve(pl); err != nil {
			return nil, err
		}
	}
	for i := range plans {
		if plans[i].GuestName == "" {
			plans[i].GuestName = nextName("eth", guests)
			guests[plans[i].GuestName] = true
		}
	}
	return plans, nil
}

// resolve looks up the host links pl needs.
func (s *session) resolve(pl *plan) error {
	switch pl.Kind {
	case Veth:
		if !pl.autoName {
			if l, err := lookup(s.host, pl.HostName); err != nil {
				return fmt.Errorf("look up host link %s: %w", pl.HostName, err)
			} else if l != nil {
				return fmt.Errorf("host link %q %w", pl.HostName, ErrExist)
			}
		}
		if pl.Bridge == "" {
			return nil
		}
		br, err := s.hostLink("bridge", pl.Bridge)
		if err != nil {
			return err
		}
		if _, ok := br.(*netlink.Bridge); !ok {
			return fmt.Errorf("%q is a %s link, not a Linux bridge", pl.Bridge, br.Type())
		}
		pl.master = br.Attrs().Index
		if pl.mtu == 0 {
			pl.mtu = br.Attrs().MTU
		}
	case Macvlan:
		parent, err := s.hostLink("parent device", pl.Parent)
		if err != nil {
			return err
		}
		pl.parent = parent.Attrs().Index
	case HostDev:
		dev, err := s.hostLink("host device", pl.HostName)
		if err != nil {
			return err
		}
		pl.dev = dev
	}
	return nil
}

// hostLink returns the host link name, which must exist.
func (s *session) hostLink(what, name string) (netlink.Link, error) {
	l, err := lookup(s.host, name)
	if err != nil {
		return nil, fmt.Errorf("look up %s %s: %w", what, name, err)
	}
	if l == nil {
		return nil, fmt.Errorf("%s %q %w", what, name, ErrNotExist)
	}
	return l, nil
}

// make creates pl's link and configures it. The returned record, when its
// Kind is set, names what exists even if the error is not nil.
func (s *session) make(pl *plan) (Link, error) {
	switch pl.Kind {
	case Veth:
		return s.makeVeth(pl)
	case Macvlan:
		return s.makeMacvlan(pl)
	}
	return s.moveHostDev(pl)
}

// autoNameTries bounds the attempts at a vnetN name that another process
// keeps taking first.
const autoNameTries = 5

func (s *session) makeVeth(pl *plan) (Link, error) {
	la := netlink.NewLinkAttrs()
	la.Name = pl.HostName
	la.MTU = pl.mtu
	la.Flags = net.FlagUp
	la.HardwareAddr = hostMAC(pl.MAC)
	v := &netlink.Veth{
		LinkAttrs:        la,
		PeerName:         pl.GuestName,
		PeerHardwareAddr: pl.MAC,
		PeerNamespace:    netlink.NsFd(s.guestNS),
		PeerTxQLen:       -1,
	}
	err := s.host.LinkAdd(v)
	for try := 1; errors.Is(err, unix.EEXIST) && pl.autoName && try < autoNameTries; try++ {
		hosts, lerr := linkNames(s.host)
		if lerr != nil {
			return Link{}, lerr
		}
		v.Name = nextName("vnet", hosts)
		err = s.host.LinkAdd(v)
	}
	if err != nil {
		return Link{}, fmt.Errorf("create veth %s/%s: %w", v.Name, pl.GuestName, err)
	}
	rec := Link{Kind: Veth, HostName: v.Name, HostIndex: v.Index, GuestName: pl.GuestName}
	if pl.master != 0 {
		if err := s.host.LinkSetMasterByIndex(v, pl.master); err != nil {
			return rec, fmt.Errorf("attach %s to bridge %s: %w", v.Name, pl.Bridge, err)
		}
	}
	// The host end was created up.
	if err := configure(s.host, v, v.Name, pl.HostAddrs, false, pl.HostRoutes); err != nil {
		return rec, err
	}
	return s.configureGuest(rec, pl)
}

func (s *session) makeMacvlan(pl *plan) (Link, error) {
	la := netlink.NewLinkAttrs()
	la.Name = pl.GuestName
	la.ParentIndex = pl.parent
	la.MTU = pl.mtu
	la.HardwareAddr = pl.MAC
	la.Namespace = netlink.NsFd(s.guestNS)
	mv := &netlink.Macvlan{LinkAttrs: la, Mode: macvlanMode(pl.Mode)}
	// LinkAdd then looks the name up in the host's namespace, and may
	// find an unrelated link there: mv.Index is not to be trusted.
	if err := s.host.LinkAdd(mv); err != nil {
		return Link{}, fmt.Errorf("create macvlan %s on %s: %w", pl.GuestName, pl.Parent, err)
	}
	return s.configureGuest(Link{Kind: Macvlan, GuestName: pl.GuestName}, pl)
}

func macvlanMode(mode string) netlink.MacvlanMode {
	switch macvlanModes[mode] {
	case "bridge":
		return netlink.MACVLAN_MODE_BRIDGE
	case "private":
		return netlink.MACVLAN_MODE_PRIVATE
	case "passthru":
		return netlink.MACVLAN_MODE_PASSTHRU
	}
	return netlink.MACVLAN_MODE_VEPA
}

func (s *session) moveHostDev(pl *plan) (Link, error) {
	a := pl.dev.Attrs()
	if err := s.host.LinkSetDown(pl.dev); err != nil {
		return Link{}, fmt.Errorf("bring down host device %s: %w", pl.HostName, err)
	}
	if err := s.host.LinkSetNsFd(pl.dev, int(s.guestNS)); err != nil {
		return Link{}, fmt.Errorf("move host device %s into the container: %w", pl.HostName, err)
	}
	rec := Link{Kind: HostDev, HostName: pl.HostName, HostIndex: a.Index,
		GuestName: pl.HostName, MAC: a.HardwareAddr.String(), MTU: a.MTU,
		Up: a.Flags&net.FlagUp != 0, Physical: pl.dev.Type() == "device"}
	g, err := s.guest.LinkByName(pl.HostName)
	if err != nil {
		return rec, fmt.Errorf("find %s in the container: %w", pl.HostName, err)
	}
	rec.GuestIndex = g.Attrs().Index
	if pl.GuestName != pl.HostName {
		if err := s.guest.LinkSetName(g, pl.GuestName); err != nil {
			return rec, fmt.Errorf("rename %s to %s in the container: %w", pl.HostName, pl.GuestName, err)
		}
		rec.GuestName = pl.GuestName
	}
	if pl.mtu != 0 && pl.mtu != a.MTU {
		if err := s.guest.LinkSetMTU(g, pl.mtu); err != nil {
			return rec, fmt.Errorf("set MTU of %s: %w", pl.GuestName, err)
		}
	}
	return rec, configure(s.guest, g, pl.GuestName, pl.Addrs, !pl.Down, pl.Routes)
}

// configureGuest completes rec from the guest side of a new veth or
// macvlan, and configures it.
func (s *session) configureGuest(rec Link, pl *plan) (Link, error) {
	g, err := s.guest.LinkByName(pl.GuestName)
	if err != nil {
		return rec, fmt.Errorf("find %s in the container: %w", pl.GuestName, err)
	}
	rec.GuestIndex = g.Attrs().Index
	rec.MAC = g.Attrs().HardwareAddr.String()
	return rec, configure(s.guest, g, pl.GuestName, pl.Addrs, !pl.Down, pl.Routes)
}

// configure adds addrs to l, brings it up if asked, and adds routes,
// which need it up.
func configure(h *netlink.Handle, l netlink.Link, name string, addrs []netip.Prefix, up bool, routes []Route) error {
	for _, a := range addrs {
		if err := h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(a)}); err != nil {
			return fmt.Errorf("add address %s to %s: %w", a, name, err)
		}
	}
	if up {
		if err := h.LinkSetUp(l); err != nil {
			return fmt.Errorf("bring up %s: %w", name, err)
		}
	}
	for _, r := range routes {
		if err := h.RouteAdd(netlinkRoute(l.Attrs().Index, r)); err != nil {
			return fmt.Errorf("add route %s dev %s: %w", r, name, err)
		}
	}
	return nil
}

func netlinkRoute(index int, r Route) *netlink.Route {
	rt := &netlink.Route{
		LinkIndex: index,
		Dst:       ipNet(r.dst()),
		Priority:  r.Metric,
		Protocol:  unix.RTPROT_BOOT,
	}
	if r.Gateway.IsValid() {
		rt.Gw = r.Gateway.AsSlice()
	} else {
		rt.Scope = netlink.SCOPE_LINK
	}
	return rt
}
