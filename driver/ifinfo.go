package driver

import (
	"bytes"
	"net"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/netns"
	"github.com/nsvirt/nsvirt/netns/dnsmasq"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// Interface information of running domains: domifstat, domifaddr and the
// host name a DHCP lease reports.

// InterfaceStats are an interface's counters as the container sees them.
type InterfaceStats struct {
	RxBytes, RxPackets, RxErrs, RxDrop int64
	TxBytes, TxPackets, TxErrs, TxDrop int64
}

// liveInterface finds a running domain's interface by host device name
// or MAC address, as libvirt's virDomainNetFind does. Call with dom.mu
// held.
func liveInterface(dom *domain, device string) (*libvirtxml.DomainInterface, error) {
	if dom.rt == nil {
		return nil, errorf(KindOperationInvalid, "domain is not running")
	}
	want, macErr := net.ParseMAC(device)
	ifaces := devices(dom.live.Def).Interfaces
	for i := range ifaces {
		ifc := &ifaces[i]
		if ifc.Target != nil && ifc.Target.Dev == device {
			return ifc, nil
		}
		if macErr == nil && macOf(ifc) == want.String() {
			return ifc, nil
		}
	}
	return nil, errorf(KindInvalidArg, "invalid path, '%s' is not a known interface", device)
}

// InterfaceStats returns the counters of a running domain's interface,
// from the container's point of view: its veth's host end, swapped.
func (d *Driver) InterfaceStats(ref DomainRef, device string) (InterfaceStats, error) {
	var host string
	err := d.snapshot(ref, func(dom *domain) error {
		ifc, err := liveInterface(dom, device)
		if err != nil {
			return err
		}
		if ifc.Target == nil || ifc.Target.Dev == "" {
			return errorf(KindOperationUnsupported, "interface statistics are kept for veth interfaces only, not for '%s'", xmlconf.InterfaceType(ifc))
		}
		host = ifc.Target.Dev
		return nil
	})
	if err != nil {
		return InterfaceStats{}, err
	}
	c, err := netns.Stats(host)
	if err != nil {
		return InterfaceStats{}, errorf(KindSystem, "statistics of %s: %w", host, err)
	}
	c = c.Swapped()
	return InterfaceStats{
		RxBytes: int64(c.RxBytes), RxPackets: int64(c.RxPackets), RxErrs: int64(c.RxErrs), RxDrop: int64(c.RxDrop),
		TxBytes: int64(c.TxBytes), TxPackets: int64(c.TxPackets), TxErrs: int64(c.TxErrs), TxDrop: int64(c.TxDrop),
	}, nil
}

// Sources of interface addresses (virDomainInterfaceAddressesSource).
const (
	AddrSourceLease = 0
	AddrSourceAgent = 1
	AddrSourceARP   = 2
)

// IfaceAddr is one address of an interface; Type is 0 for IPv4, 1 for
// IPv6.
type IfaceAddr struct {
	Type   int32
	Addr   string
	Prefix uint32
}

// IfaceAddresses are an interface's addresses (virDomainInterface).
type IfaceAddresses struct {
	Name, HwAddr string
	Addrs        []IfaceAddr
}

// domainNIC is what address lookups need of one interface.
type domainNIC struct {
	name, network string
	mac           net.HardwareAddr
}

// InterfaceAddresses returns a running domain's interface addresses from
// the DHCP leases of its networks (LEASE), the host's neighbour table
// (ARP), or the container's own links (AGENT: a container needs no agent,
// nsvirt reads its network namespace).
func (d *Driver) InterfaceAddresses(ref DomainRef, source, flags uint32) ([]IfaceAddresses, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virDomainInterfaceAddresses")
	}
	var nics []domainNIC
	var initPid int
	err := d.snapshot(ref, func(dom *domain) error {
		if dom.rt == nil {
			return errorf(KindOperationInvalid, "domain is not running")
		}
		initPid = dom.rt.initPid
		nics = nicsOf(dom.live.Def)
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch source {
	case AddrSourceLease:
		return d.leaseAddresses(nics)
	case AddrSourceARP:
		return arpAddresses(nics)
	case AddrSourceAgent:
		return guestAddresses(initPid)
	}
	return nil, errorf(KindArgumentUnsupported, "Unknown IP address data source %d", source)
}

func nicsOf(def *libvirtxml.Domain) []domainNIC {
	var out []domainNIC
	for i := range devices(def).Interfaces {
		ifc := &def.Devices.Interfaces[i]
		nic := domainNIC{}
		if ifc.Target != nil {
			nic.name = ifc.Target.Dev
		}
		if ifc.Source != nil && ifc.Source.Network != nil {
			nic.network = ifc.Source.Network.Network
		}
		if mac, err := net.ParseMAC(macOf(ifc)); err == nil {
			nic.mac = mac
		}
		out = append(out, nic)
	}
	return out
}

func addrOf(ip interface {
	Is4() bool
	String() string
}, prefix int) IfaceAddr {
	t := int32(1)
	if ip.Is4() {
		t = 0
	}
	return IfaceAddr{Type: t, Addr: ip.String(), Prefix: uint32(prefix)}
}

// nicLeases returns the unexpired DHCP leases of an interface on a
// network (none for other interfaces).
func (d *Driver) nicLeases(nic domainNIC, now time.Time) ([]dnsmasq.Lease, error) {
	if nic.network == "" || nic.mac == nil {
		return nil, nil
	}
	leases, err := d.networkLeases(nic.network)
	if err != nil {
		return nil, err
	}
	return dnsmasq.ForMAC(leases, nic.mac, now), nil
}

// leaseAddresses reports the unexpired leases of interfaces on networks.
func (d *Driver) leaseAddresses(nics []domainNIC) ([]IfaceAddresses, error) {
	var out []IfaceAddresses
	now := time.Now()
	for _, nic := range nics {
		if nic.network == "" || nic.mac == nil {
			continue
		}
		leases, err := d.nicLeases(nic, now)
		if err != nil {
			return nil, err
		}
		ia := IfaceAddresses{Name: nic.name, HwAddr: nic.mac.String()}
		for _, l := range leases {
			ia.Addrs = append(ia.Addrs, addrOf(l.IP, l.Prefix))
		}
		if len(ia.Addrs) > 0 {
			out = append(out, ia)
		}
	}
	return out, nil
}

// arpAddresses reports the host's neighbour entries of each interface.
func arpAddresses(nics []domainNIC) ([]IfaceAddresses, error) {
	neighs, err := netns.Neighbours()
	if err != nil {
		return nil, errorf(KindSystem, "%w", err)
	}
	var out []IfaceAddresses
	for _, nic := range nics {
		ia := IfaceAddresses{Name: nic.name, HwAddr: nic.mac.String()}
		for _, n := range neighs {
			if nic.mac != nil && bytes.Equal(n.MAC, nic.mac) {
				ia.Addrs = append(ia.Addrs, addrOf(n.IP, 0))
			}
		}
		if len(ia.Addrs) > 0 {
			out = append(out, ia)
		}
	}
	return out, nil
}

// guestAddresses reports the links inside the container, lo excluded.
func guestAddresses(initPid int) ([]IfaceAddresses, error) {
	links, err := netns.GuestAddrs(netns.OfPID(initPid))
	if err != nil {
		return nil, errorf(KindSystem, "%w", err)
	}
	var out []IfaceAddresses
	for _, l := range links {
		if l.Name == "lo" {
			continue
		}
		ia := IfaceAddresses{Name: l.Name, HwAddr: l.MAC.String()}
		for _, p := range l.Addrs {
			ia.Addrs = append(ia.Addrs, addrOf(p.Addr(), p.Bits()))
		}
		out = append(out, ia)
	}
	return out, nil
}

// Host name flags (virDomainGetHostnameFlags).
const (
	HostnameLease = 1
	HostnameAgent = 2
)

// DomainHostname returns the host name a running domain's DHCP client
// gave to one of its networks, as libvirt's LXC driver does.
func (d *Driver) DomainHostname(ref DomainRef, flags uint32) (string, error) {
	if flags&^HostnameLease != 0 {
		return "", unsupportedFlags(flags, "virDomainGetHostname")
	}
	var nics []domainNIC
	var name string
	err := d.snapshot(ref, func(dom *domain) error {
		if dom.rt == nil {
			return errorf(KindOperationInvalid, "domain is not running")
		}
		name, nics = dom.name, nicsOf(dom.live.Def)
		return nil
	})
	if err != nil {
		return "", err
	}
	now := time.Now()
	for _, nic := range nics {
		leases, err := d.nicLeases(nic, now)
		if err != nil {
			return "", err
		}
		for _, l := range leases {
			if l.Hostname != "" {
				return l.Hostname, nil
			}
		}
	}
	return "", errorf(KindNoHostname, "no hostname found for domain %s", name)
}
