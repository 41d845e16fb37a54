package netns

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// EnsureBridge makes sure the host has a Linux bridge called name with
// addrs, and the MTU mtu unless it is 0, brought up if up is true. It
// creates the bridge if there is none, and reports whether it did; on an
// error it removes a bridge it created. An existing link of another type
// is an error.
func EnsureBridge(name string, mtu int, addrs []netip.Prefix, up bool) (created bool, err error) {
	if err := checkName("bridge", name); err != nil {
		return false, fmt.Errorf("%w bridge: %w", ErrInvalid, err)
	}
	if err := checkAddrs(addrs); err != nil {
		return false, fmt.Errorf("%w bridge %s: %w", ErrInvalid, name, err)
	}
	s, err := openHost()
	if err != nil {
		return false, err
	}
	defer s.close()
	br, err := lookup(s.host, name)
	if err != nil {
		return false, fmt.Errorf("look up bridge %s: %w", name, err)
	}
	if br == nil {
		la := netlink.NewLinkAttrs()
		la.Name = name
		la.MTU = mtu
		if err := s.host.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
			return false, fmt.Errorf("create bridge %s: %w", name, err)
		}
		if br, err = s.host.LinkByName(name); err != nil {
			return false, errors.Join(fmt.Errorf("find new bridge %s: %w", name, err), s.deleteBridge(name))
		}
		created = true
	} else if _, ok := br.(*netlink.Bridge); !ok {
		return false, fmt.Errorf("%q is a %s link, not a Linux bridge", name, br.Type())
	}
	if err := configureBridge(s.host, br, mtu, addrs, up); err != nil {
		if created {
			err = errors.Join(err, s.deleteBridge(name))
		}
		return false, err
	}
	return created, nil
}

func configureBridge(h *netlink.Handle, br netlink.Link, mtu int, addrs []netip.Prefix, up bool) error {
	name := br.Attrs().Name
	if mtu != 0 && br.Attrs().MTU != mtu {
		if err := h.LinkSetMTU(br, mtu); err != nil {
			return fmt.Errorf("set MTU of bridge %s: %w", name, err)
		}
	}
	for _, a := range addrs {
		if err := h.AddrReplace(br, &netlink.Addr{IPNet: ipNet(a)}); err != nil {
			return fmt.Errorf("add address %s to bridge %s: %w", a, name, err)
		}
	}
	if up {
		if err := h.LinkSetUp(br); err != nil {
			return fmt.Errorf("bring up bridge %s: %w", name, err)
		}
	}
	return nil
}

// DeleteBridge deletes the Linux bridge called name, which detaches its
// ports. A bridge that does not exist is not an error; a link of another
// type is.
func DeleteBridge(name string) error {
	s, err := openHost()
	if err != nil {
		return err
	}
	defer s.close()
	return s.deleteBridge(name)
}

func (s *session) deleteBridge(name string) error {
	br, err := lookup(s.host, name)
	if err != nil {
		return fmt.Errorf("look up bridge %s: %w", name, err)
	}
	if br == nil {
		return nil
	}
	if _, ok := br.(*netlink.Bridge); !ok {
		return fmt.Errorf("%q is a %s link, not a Linux bridge", name, br.Type())
	}
	if err := s.host.LinkDel(br); err != nil && !notFound(err) {
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	return nil
}

// LinkExists reports whether the host has a link called name.
func LinkExists(name string) bool {
	s, err := openHost()
	if err != nil {
		return false
	}
	defer s.close()
	l, _ := lookup(s.host, name)
	return l != nil
}

// FreeName returns prefix followed by the smallest number that names no
// host link, such as "vnet3". Another process may take it first; [Setup]
// chooses vnetN names itself, and retries when that happens.
func FreeName(prefix string) (string, error) {
	if err := checkName("name prefix", prefix+"0"); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s, err := openHost()
	if err != nil {
		return "", err
	}
	defer s.close()
	used, err := linkNames(s.host)
	if err != nil {
		return "", err
	}
	return nextName(prefix, used), nil
}
