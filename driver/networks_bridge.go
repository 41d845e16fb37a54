package driver

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/vishvananda/netlink"
	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/xmlconf"
)

// bridgeAddrs returns the addresses a network's bridge gets: each <ip>
// address with its prefix length (libvirt's default prefix when the
// element gives neither prefix nor netmask).
func bridgeAddrs(def *xmlconf.Network) []netip.Prefix {
	var out []netip.Prefix
	for _, ip := range def.Def.IPs {
		addr, err := netip.ParseAddr(ip.Address)
		if err != nil {
			continue
		}
		one := &xmlconf.Network{Def: &libvirtxml.Network{IPs: []libvirtxml.NetworkIP{ip}}}
		if subnets := xmlconf.Subnets(one); len(subnets) == 1 {
			out = append(out, netip.PrefixFrom(addr, subnets[0].Bits()))
		}
	}
	return out
}

// setBridgeOptions gives a network's new bridge what its definition asks
// for beyond addresses and MTU: the MAC address (so that it does not
// change as guests come and go), then, as libvirt orders them, the STP
// forward delay and STP itself. The bridge is still down.
func setBridgeOptions(name string, def *xmlconf.Network) error {
	if def.Def.MAC != nil && def.Def.MAC.Address != "" {
		mac, err := net.ParseMAC(def.Def.MAC.Address)
		if err != nil {
			return fmt.Errorf("MAC address %q: %w", def.Def.MAC.Address, err)
		}
		link, err := netlink.LinkByName(name)
		if err != nil {
			return err
		}
		if err := netlink.LinkSetHardwareAddr(link, mac); err != nil {
			return fmt.Errorf("set MAC address %s: %w", mac, err)
		}
	}
	br := def.Def.Bridge
	if br == nil {
		return nil
	}
	delay, _ := strconv.ParseUint(br.Delay, 10, 32)
	// The kernel counts the delay in hundredths of a second.
	if err := writeBridgeAttr(name, "forward_delay", strconv.FormatUint(delay*100, 10)); err != nil {
		return err
	}
	stp := "0"
	if br.STP != "off" {
		stp = "1"
	}
	return writeBridgeAttr(name, "stp_state", stp)
}

func writeBridgeAttr(bridge, attr, value string) error {
	p := filepath.Join("/sys/class/net", bridge, "bridge", attr)
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return fmt.Errorf("set %s: %w", attr, err)
	}
	return nil
}

// setLinkUp brings a host link up.
func setLinkUp(name string) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring up: %w", err)
	}
	return nil
}
