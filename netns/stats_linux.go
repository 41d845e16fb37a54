package netns

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
)

// Stats returns the counters of the host link called name, as the host
// sees them.
func Stats(name string) (Counters, error) {
	s, err := openHost()
	if err != nil {
		return Counters{}, err
	}
	defer s.close()
	l, err := s.host.LinkByName(name)
	if notFound(err) {
		return Counters{}, fmt.Errorf("link %q %w", name, ErrNotExist)
	}
	if err != nil {
		return Counters{}, fmt.Errorf("statistics of %s: %w", name, err)
	}
	st := l.Attrs().Statistics
	if st == nil {
		return Counters{}, fmt.Errorf("statistics of %s: the kernel reported none", name)
	}
	return Counters{
		RxBytes: st.RxBytes, RxPackets: st.RxPackets, RxErrs: st.RxErrors, RxDrop: st.RxDropped,
		TxBytes: st.TxBytes, TxPackets: st.TxPackets, TxErrs: st.TxErrors, TxDrop: st.TxDropped,
	}, nil
}

// GuestLink is a link in a container and its addresses.
type GuestLink struct {
	Name  string
	Index int
	MAC   net.HardwareAddr
	Addrs []netip.Prefix // IPv4 and IPv6, link-local ones included
}

// GuestAddrs returns every link in network namespace ns, lo included, in
// ifindex order, with its addresses.
func GuestAddrs(ns NS) ([]GuestLink, error) {
	s, err := openSession(ns)
	if err != nil {
		return nil, err
	}
	defer s.close()
	links, err := retryDump(s.guest.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list links in %s: %w", ns, err)
	}
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return s.guest.AddrList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, fmt.Errorf("list addresses in %s: %w", ns, err)
	}
	out := make([]GuestLink, 0, len(links))
	at := map[int]int{} // ifindex -> position in out
	for _, l := range links {
		a := l.Attrs()
		at[a.Index] = len(out)
		out = append(out, GuestLink{Name: a.Name, Index: a.Index, MAC: a.HardwareAddr})
	}
	for _, a := range addrs {
		i, ok := at[a.LinkIndex]
		p, valid := prefixOf(a.IPNet)
		if ok && valid {
			out[i].Addrs = append(out[i].Addrs, p)
		}
	}
	slices.SortFunc(out, func(a, b GuestLink) int { return a.Index - b.Index })
	return out, nil
}

// Neighbour is an entry of the host's neighbour (ARP and NDP) table.
type Neighbour struct {
	IP  netip.Addr
	MAC net.HardwareAddr
	Dev string
}

// Neighbours returns the host's neighbour table entries that have a
// link-layer address.
func Neighbours() ([]Neighbour, error) {
	s, err := openHost()
	if err != nil {
		return nil, err
	}
	defer s.close()
	neighs, err := retryDump(func() ([]netlink.Neigh, error) { return s.host.NeighList(0, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, fmt.Errorf("list neighbours: %w", err)
	}
	names := map[int]string{}
	if links, err := retryDump(s.host.LinkList); err == nil {
		for _, l := range links {
			names[l.Attrs().Index] = l.Attrs().Name
		}
	}
	var out []Neighbour
	for _, n := range neighs {
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok || len(n.HardwareAddr) == 0 || n.State&(netlink.NUD_FAILED|netlink.NUD_INCOMPLETE) != 0 {
			continue
		}
		out = append(out, Neighbour{IP: ip.Unmap(), MAC: n.HardwareAddr, Dev: names[n.LinkIndex]})
	}
	return out, nil
}
