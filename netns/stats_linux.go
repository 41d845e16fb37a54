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
