package driver

import (
	"net/netip"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/nsvirt/nsvirt/netns/nat"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// Virtual networks, as libvirt's network driver keeps them: a persistent
// definition in NETWORK_DIR/NAME.xml (and an autostart link in
// NETWORK_DIR/autostart/), a live definition while the network runs, and
// host plumbing made at start (bridge, nftables table, forwarding sysctls,
// dnsmasq) that outlives the daemon. Live state is kept in
// STATE_DIR/network/ so that a restarted daemon finds its running networks
// again (networks_reconcile.go).

// Flags of NetworkDefineXML and NetworkCreateXML
// (VIR_NETWORK_DEFINE_VALIDATE, VIR_NETWORK_CREATE_VALIDATE).
const (
	NetworkDefineValidate = 1
	NetworkCreateValidate = 1
)

// NetworkXMLInactive is VIR_NETWORK_XML_INACTIVE: NetworkXMLDesc returns
// the persistent definition.
const NetworkXMLInactive = 1

// Filters of ListNetworks (virConnectListAllNetworksFlags).
const (
	ListNetworksInactive    = 1
	ListNetworksActive      = 2
	ListNetworksPersistent  = 4
	ListNetworksTransient   = 8
	ListNetworksAutostart   = 16
	ListNetworksNoAutostart = 32
	listNetworksAll         = 63
)

// defaultNetworkSubnet is the subnet of the network "default" defined at
// first start-up when Config.DefaultNetworkSubnet is not set (libvirt's).
var defaultNetworkSubnet = netip.MustParsePrefix("192.168.122.0/24")

// network is the driver's record of one virtual network. Its job lock
// serialises operations on it (start, destroy, define, undefine); mu
// guards the fields for quick readers.
type network struct {
	job chan struct{}

	mu          sync.Mutex
	name        string
	uuid        UUID
	persistent  *xmlconf.Network // NETWORK_DIR/NAME.xml; nil when transient
	live        *xmlconf.Network // the running definition; nil when inactive
	autostart   bool
	connections int // guest interfaces using the running network
}

func newNetwork(name string, uuid UUID) *network {
	return &network{job: make(chan struct{}, 1), name: name, uuid: uuid}
}

// lock takes the network's job lock, waiting at most jobTimeout.
func (n *network) lock() error {
	t := time.NewTimer(jobTimeout)
	defer t.Stop()
	select {
	case n.job <- struct{}{}:
		return nil
	case <-t.C:
		return errorf(KindOperationTimeout, "cannot acquire state change lock for network '%s'", n.name)
	}
}

func (n *network) unlock() { <-n.job }

func (n *network) ref() NetworkRef {
	n.mu.Lock()
	defer n.mu.Unlock()
	return NetworkRef{Name: n.name, UUID: n.uuid}
}

// def returns what queries show: the live definition while the network
// runs, the persistent one otherwise. n.mu must be held.
func (n *network) def() *xmlconf.Network {
	if n.live != nil {
		return n.live
	}
	return n.persistent
}

// defs returns every definition of n (persistent and live), for the
// checks that compare networks. n.mu must be held.
func (n *network) defs() []*xmlconf.Network {
	var out []*xmlconf.Network
	for _, def := range []*xmlconf.Network{n.persistent, n.live} {
		if def != nil {
			out = append(out, def)
		}
	}
	return out
}

// networks is the network half of the driver: the registry, the
// directories and the host state shared by all networks.
type networks struct {
	mu     sync.RWMutex
	byName map[string]*network
	byUUID map[UUID]*network

	// defineMu serialises defines and creates, so that the checks against
	// other networks (names, UUIDs, bridges, subnets) see a stable set.
	defineMu sync.Mutex

	dir      string // NETWORK_DIR: persistent definitions and autostart links
	stateDir string // STATE_DIR/network: status files, dnsmasq directories
	sysctls  *nat.Sysctls
}

func (r *networks) init(cfg Config) {
	r.byName = map[string]*network{}
	r.byUUID = map[UUID]*network{}
	r.dir = cfg.NetworkDir
	if r.dir == "" {
		r.dir = filepath.Join(filepath.Dir(cfg.ConfigDir), "network")
	}
	r.stateDir = filepath.Join(cfg.StateDir, "network")
	r.sysctls = nat.NewSysctls("", r.stateDir)
}

func (r *networks) add(n *network) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byName[n.name] = n
	r.byUUID[n.uuid] = n
}

func (r *networks) remove(n *network) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byName[n.name] == n {
		delete(r.byName, n.name)
	}
	if r.byUUID[n.uuid] == n {
		delete(r.byUUID, n.uuid)
	}
}

func (r *networks) byNameGet(name string) *network {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byName[name]
}

func (r *networks) byUUIDGet(u UUID) *network {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byUUID[u]
}

// registered reports whether n is still in the registry (it leaves it
// when undefined while inactive, or destroyed while transient).
func (r *networks) registered(n *network) bool { return r.byUUIDGet(n.uuid) == n }

// all returns every network, sorted by name.
func (r *networks) all() []*network {
	r.mu.RLock()
	out := make([]*network, 0, len(r.byName))
	for _, n := range r.byName {
		out = append(out, n)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// findNetwork returns the network a client refers to, by UUID as libvirt
// does, naming it in the error.
func (d *Driver) findNetwork(ref NetworkRef) (*network, error) {
	if n := d.nets.byUUIDGet(ref.UUID); n != nil {
		return n, nil
	}
	return nil, noNetworkUUID(ref)
}

func noNetworkUUID(ref NetworkRef) error {
	return errorf(KindNoNetwork, "no network with matching uuid '%s' (%s)", ref.UUID, ref.Name)
}

// withNetworkJob runs fn with the network's job lock held.
func (d *Driver) withNetworkJob(ref NetworkRef, fn func(n *network) error) error {
	n, err := d.findNetwork(ref)
	if err != nil {
		return err
	}
	if err := n.lock(); err != nil {
		return err
	}
	defer n.unlock()
	if !d.nets.registered(n) {
		return noNetworkUUID(ref) // removed while we waited
	}
	return fn(n)
}

// snapshotNetwork runs fn with the network's fields locked; queries use it
// and never wait for a job in progress.
func (d *Driver) snapshotNetwork(ref NetworkRef, fn func(n *network) error) error {
	n, err := d.findNetwork(ref)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return fn(n)
}

// emitNetwork publishes a network lifecycle event (libvirt's network
// events have no details).
func (d *Driver) emitNetwork(ref NetworkRef, event int32) {
	d.events.emit(NetworkLifecycleEvent{Net: ref, Event: event})
}
