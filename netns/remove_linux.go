package netns

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
)

// remove undoes one record. A link that is already gone is not an error.
func (s *session) remove(l Link) error {
	switch l.Kind {
	case Veth:
		return s.removeVeth(l)
	case Macvlan:
		return s.removeMacvlan(l)
	case HostDev:
		return s.returnHostDev(l)
	}
	return fmt.Errorf("remove %s: unknown kind %q", l.GuestName, l.Kind)
}

// removeVeth deletes the host end, which deletes the pair.
func (s *session) removeVeth(l Link) error {
	h, err := lookup(s.host, l.HostName)
	if err != nil {
		return fmt.Errorf("remove veth %s: %w", l.HostName, err)
	}
	if h == nil || h.Type() != "veth" || (l.HostIndex != 0 && h.Attrs().Index != l.HostIndex) {
		return nil // gone, perhaps with the container's namespace; any link now called so is another's
	}
	if err := s.host.LinkDel(h); err != nil && !notFound(err) {
		return fmt.Errorf("remove veth %s: %w", l.HostName, err)
	}
	return nil
}

func (s *session) removeMacvlan(l Link) error {
	g, err := s.findGuest(l)
	if err != nil || g == nil {
		return err
	}
	if err := s.guest.LinkDel(g); err != nil && !notFound(err) {
		return fmt.Errorf("remove macvlan %s: %w", l.GuestName, err)
	}
	return nil
}

// findGuest returns l's link in the container, by index, then by name,
// provided its MAC address still matches; nil when there is none or the
// namespace is gone.
func (s *session) findGuest(l Link) (netlink.Link, error) {
	if s.guest == nil {
		return nil, nil
	}
	matches := func(g netlink.Link) bool {
		return g != nil && (l.MAC == "" || g.Attrs().HardwareAddr.String() == l.MAC)
	}
	if l.GuestIndex != 0 {
		g, err := s.guest.LinkByIndex(l.GuestIndex)
		if err != nil && !notFound(err) {
			return nil, fmt.Errorf("look up %s in the container: %w", l.GuestName, err)
		}
		if matches(g) {
			return g, nil
		}
	}
	g, err := lookup(s.guest, l.GuestName)
	if err != nil {
		return nil, fmt.Errorf("look up %s in the container: %w", l.GuestName, err)
	}
	if matches(g) {
		return g, nil
	}
	return nil, nil
}

// returnHostDev moves a host device back to the host, under its original
// name. It leaves the container under a temporary name, which neither
// the container's links nor the host's can clash with.
func (s *session) returnHostDev(l Link) error {
	g, err := s.findGuest(l)
	if err != nil {
		return fmt.Errorf("return host device %s: %w", l.HostName, err)
	}
	if g != nil {
		tmp := tempName()
		if err := s.guest.LinkSetDown(g); err != nil {
			return fmt.Errorf("return host device %s: bring down %s: %w", l.HostName, l.GuestName, err)
		}
		if err := s.guest.LinkSetName(g, tmp); err != nil {
			return fmt.Errorf("return host device %s: rename %s: %w", l.HostName, l.GuestName, err)
		}
		if err := s.guest.LinkSetNsFd(g, int(s.hostNS)); err != nil {
			_ = s.guest.LinkSetName(g, l.GuestName)
			return fmt.Errorf("return host device %s: move %s out of the container: %w", l.HostName, l.GuestName, err)
		}
		h, err := s.host.LinkByName(tmp)
		if err != nil {
			return fmt.Errorf("return host device %s: find it as %s: %w", l.HostName, tmp, err)
		}
		return s.restoreHostDev(h, l)
	}
	// Not in the container. When a namespace dies the kernel deletes its
	// virtual devices and returns physical ones to the host, keeping the
	// ifindex if it is free and the name unless it is taken (else devN),
	// but it does so some time after the last process left: wait for it.
	if !l.Physical {
		return nil
	}
	deadline := time.Now().Add(returnWait)
	for {
		h, err := s.findReturned(l)
		if err != nil {
			return fmt.Errorf("return host device %s: %w", l.HostName, err)
		}
		if h != nil {
			return s.restoreHostDev(h, l)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("return host device %s: it is neither in the container nor back on the host after %v", l.HostName, returnWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// returnWait bounds the wait for the kernel to return a physical device
// from a dead namespace.
const returnWait = 5 * time.Second

// findReturned looks for a physical device back on the host: by its old
// ifindex, else by its MAC address.
func (s *session) findReturned(l Link) (netlink.Link, error) {
	isIt := func(h netlink.Link) bool {
		a := h.Attrs()
		return h.Type() == "device" && (a.HardwareAddr.String() == l.MAC || a.PermHWAddr.String() == l.MAC)
	}
	if l.HostIndex != 0 {
		h, err := s.host.LinkByIndex(l.HostIndex)
		if err != nil && !notFound(err) {
			return nil, err
		}
		if h != nil && isIt(h) {
			return h, nil
		}
	}
	links, err := retryDump(s.host.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	for _, h := range links {
		if isIt(h) {
			return h, nil
		}
	}
	return nil, nil
}

// restoreHostDev gives a returned host device its name, MTU and state.
func (s *session) restoreHostDev(h netlink.Link, l Link) error {
	a := h.Attrs()
	if a.Name != l.HostName {
		if err := s.host.LinkSetDown(h); err != nil {
			return fmt.Errorf("return host device %s: bring down %s: %w", l.HostName, a.Name, err)
		}
		if err := s.host.LinkSetName(h, l.HostName); err != nil {
			return fmt.Errorf("return host device %s: rename %s: %w", l.HostName, a.Name, err)
		}
	}
	if l.MTU != 0 && a.MTU != l.MTU {
		if err := s.host.LinkSetMTU(h, l.MTU); err != nil {
			return fmt.Errorf("return host device %s: restore MTU %d: %w", l.HostName, l.MTU, err)
		}
	}
	if l.Up {
		if err := s.host.LinkSetUp(h); err != nil {
			return fmt.Errorf("return host device %s: bring up: %w", l.HostName, err)
		}
	}
	return nil
}

// tempName returns a link name no one else uses.
func tempName() string {
	b := make([]byte, 5)
	rand.Read(b)
	return "nsvt" + hex.EncodeToString(b)
}
