package driver

import (
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nsvirt/nsvirt/netns/dnsmasq"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// NetworkLookupByName finds a network by name.
func (d *Driver) NetworkLookupByName(name string) (NetworkRef, error) {
	if n := d.nets.byNameGet(name); n != nil {
		return n.ref(), nil
	}
	return NetworkRef{}, errorf(KindNoNetwork, "no network with matching name '%s'", name)
}

// NetworkLookupByUUID finds a network by UUID.
func (d *Driver) NetworkLookupByUUID(u UUID) (NetworkRef, error) {
	if n := d.nets.byUUIDGet(u); n != nil {
		return n.ref(), nil
	}
	return NetworkRef{}, errorf(KindNoNetwork, "no network with matching uuid '%s'", u)
}

// ListNetworks returns the networks that pass the filters in flags
// (ListNetworksActive and the other virConnectListAllNetworksFlags; a
// group with neither or both of its flags set does not filter), sorted by
// name.
func (d *Driver) ListNetworks(flags uint32) ([]NetworkRef, error) {
	if flags&^listNetworksAll != 0 {
		return nil, unsupportedFlags(flags, "virConnectListAllNetworks")
	}
	var out []NetworkRef
	for _, n := range d.nets.all() {
		n.mu.Lock()
		ok := passes(flags, ListNetworksActive, ListNetworksInactive, n.live != nil) &&
			passes(flags, ListNetworksPersistent, ListNetworksTransient, n.persistent != nil) &&
			passes(flags, ListNetworksAutostart, ListNetworksNoAutostart, n.autostart)
		ref := NetworkRef{Name: n.name, UUID: n.uuid}
		n.mu.Unlock()
		if ok {
			out = append(out, ref)
		}
	}
	return out, nil
}

// passes applies one pair of list filters to a property.
func passes(flags uint32, yes, no uint32, v bool) bool {
	if flags&(yes|no) == 0 || flags&(yes|no) == yes|no {
		return true
	}
	return v == (flags&yes != 0)
}

// NetworkXMLDesc returns a network's XML: the live definition (with its
// connection count) while it runs, else, or with NetworkXMLInactive, the
// persistent one.
func (d *Driver) NetworkXMLDesc(ref NetworkRef, flags uint32) (string, error) {
	if flags&^NetworkXMLInactive != 0 {
		return "", unsupportedFlags(flags, "virNetworkGetXMLDesc")
	}
	var out string
	err := d.snapshotNetwork(ref, func(n *network) error {
		def, opts := n.def(), xmlconf.NetworkFormatOptions{Inactive: flags&NetworkXMLInactive != 0}
		if opts.Inactive && n.persistent != nil {
			def = n.persistent
		}
		if def == n.live {
			opts.Connections = n.connections
		}
		var err error
		out, err = xmlconf.FormatNetwork(def, opts)
		return err
	})
	return out, err
}

// NetworkBridgeName returns the name of a network's bridge.
func (d *Driver) NetworkBridgeName(ref NetworkRef) (string, error) {
	var out string
	err := d.snapshotNetwork(ref, func(n *network) error {
		if out = bridgeOf(n.def()); out == "" {
			return errorf(KindInternal, "network '%s' does not have a bridge name.", n.name)
		}
		return nil
	})
	return out, err
}

// NetworkIsActive reports whether a network is running.
func (d *Driver) NetworkIsActive(ref NetworkRef) (bool, error) {
	var v bool
	err := d.snapshotNetwork(ref, func(n *network) error { v = n.live != nil; return nil })
	return v, err
}

// NetworkIsPersistent reports whether a network has a persistent
// definition.
func (d *Driver) NetworkIsPersistent(ref NetworkRef) (bool, error) {
	var v bool
	err := d.snapshotNetwork(ref, func(n *network) error { v = n.persistent != nil; return nil })
	return v, err
}

// NetworkAutostart reports whether a network starts with the daemon.
func (d *Driver) NetworkAutostart(ref NetworkRef) (bool, error) {
	var v bool
	err := d.snapshotNetwork(ref, func(n *network) error { v = n.autostart; return nil })
	return v, err
}

// NetworkSetAutostart marks a persistent network to start with the
// daemon, or not, with a link in NETWORK_DIR/autostart as libvirt keeps
// it.
func (d *Driver) NetworkSetAutostart(ref NetworkRef, on bool) error {
	return d.withNetworkJob(ref, func(n *network) error {
		n.mu.Lock()
		persistent, cur := n.persistent != nil, n.autostart
		n.mu.Unlock()
		if !persistent {
			return errorf(KindOperationInvalid, "cannot set autostart for transient network")
		}
		if cur == on {
			return nil
		}
		if err := d.nets.setAutostart(n.name, on); err != nil {
			return errorf(KindOperationFailed, "network %s: %w", n.name, err)
		}
		n.mu.Lock()
		n.autostart = on
		n.mu.Unlock()
		return nil
	})
}

// NetworkLease is one DHCP lease as virNetworkGetDHCPLeases reports it.
type NetworkLease struct {
	Iface      string // the network's bridge
	ExpiryTime int64  // seconds since the epoch; 0 for an infinite lease
	Type       int    // 0 IPv4, 1 IPv6 (virIPAddrType)
	MAC        string
	IAID       string // DHCPv6 only
	IPAddr     string
	Prefix     uint
	Hostname   string
	ClientID   string
}

// NetworkDHCPLeases returns the current DHCP leases of an active network,
// those of one MAC address if mac is not empty. An inactive network has
// none.
func (d *Driver) NetworkDHCPLeases(ref NetworkRef, mac string, flags uint32) ([]NetworkLease, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virNetworkGetDHCPLeases")
	}
	var hw net.HardwareAddr
	if mac != "" {
		var err error
		if hw, err = net.ParseMAC(mac); err != nil || len(hw) != 6 {
			return nil, errorf(KindInvalidMAC, "%s", mac)
		}
	}
	var live *xmlconf.Network
	if err := d.snapshotNetwork(ref, func(n *network) error { live = n.live; return nil }); err != nil {
		return nil, err
	}
	if live == nil {
		return nil, nil
	}
	leases := d.readLeases(live)
	if hw != nil {
		leases = dnsmasq.ForMAC(leases, hw, time.Now())
	}
	out := make([]NetworkLease, 0, len(leases))
	for _, l := range leases {
		out = append(out, wireLease(live, l))
	}
	return out, nil
}

// wireLease fills in a lease as libvirt does: the interface is the
// bridge, the prefix that of the network's first address of the lease's
// family.
func wireLease(live *xmlconf.Network, l dnsmasq.Lease) NetworkLease {
	out := NetworkLease{Iface: bridgeOf(live), IPAddr: l.IP.String(), Hostname: l.Hostname, ClientID: l.ClientID}
	if !l.Expiry.IsZero() {
		out.ExpiryTime = l.Expiry.Unix()
	}
	if l.MAC != nil {
		out.MAC = l.MAC.String()
	}
	if l.IP.Is6() {
		out.Type, out.IAID = 1, strconv.FormatUint(uint64(l.IAID), 10)
	}
	for _, p := range xmlconf.Subnets(live) {
		if p.Addr().Is6() == l.IP.Is6() {
			out.Prefix = uint(p.Bits())
			break
		}
	}
	return out
}

// readLeases returns the unexpired leases in a running network's lease
// file. Lines dnsmasq was rewriting as we read are logged and skipped.
func (d *Driver) readLeases(live *xmlconf.Network) []dnsmasq.Lease {
	cfg, needed, _ := dnsmasqConfig(live)
	if !needed {
		return nil
	}
	path := filepath.Join(d.nets.dnsmasqDir(live.Def.Name), dnsmasq.LeaseName)
	leases, err := dnsmasq.Leases(path, cfg.AllSubnets()...)
	if err != nil {
		d.log.Warn("read DHCP leases", "network", live.Def.Name, "path", path, "err", err)
	}
	now := time.Now()
	out := leases[:0]
	for _, l := range leases {
		if !l.Expired(now) {
			out = append(out, l)
		}
	}
	return out
}

// networkBridge returns the bridge of an active network, for a domain
// interface of type network.
func (d *Driver) networkBridge(name string) (string, error) {
	n := d.nets.byNameGet(name)
	if n == nil {
		return "", errorf(KindNoNetwork, "no network with matching name '%s'", name)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.live == nil {
		return "", errorf(KindOperationInvalid, "network '%s' is not active", name)
	}
	return bridgeOf(n.live), nil
}

// networkConnections adds delta to the number of guest interfaces using
// an active network (net-dumpxml's connections). The count is not saved:
// after a daemon restart, the domains that are taken over count
// themselves in again. An inactive or unknown network is ignored.
func (d *Driver) networkConnections(name string, delta int) {
	n := d.nets.byNameGet(name)
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.live != nil {
		n.connections = max(0, n.connections+delta)
	}
}

// networkLeases returns the current (unexpired) DHCP leases of an active
// network, in lease file order; nil for an inactive network, or one that
// no longer exists (its guests lost their leases with it).
func (d *Driver) networkLeases(name string) ([]dnsmasq.Lease, error) {
	n := d.nets.byNameGet(name)
	if n == nil {
		return nil, nil
	}
	n.mu.Lock()
	live := n.live
	n.mu.Unlock()
	if live == nil {
		return nil, nil
	}
	return d.readLeases(live), nil
}
