package driver

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/nsvirt/nsvirt/netns"
	"github.com/nsvirt/nsvirt/netns/dnsmasq"
	"github.com/nsvirt/nsvirt/netns/nat"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// openNetworks loads the networks at daemon start-up: the definitions in
// NETWORK_DIR (defining "default" the first time, when the directory does
// not exist yet), then the status files of the networks that were running.
// A network whose bridge (and dnsmasq, if it needs one) survived is taken
// over as active; what is left of any other is removed, as are forwarding
// holds and firewall tables that this daemon made for networks that are no
// longer active. Networks are not stopped when the daemon exits.
func (d *Driver) openNetworks(defaultSubnet netip.Prefix) {
	r := &d.nets
	_, err := os.Stat(r.dir)
	first := errors.Is(err, fs.ErrNotExist)
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		d.log.Error("create network directory", "dir", r.dir, "err", err)
	}
	for _, sn := range d.loadNetworkConfigs() {
		d.registerStored(sn)
	}
	if first {
		d.defineDefaultNetwork(defaultSubnet)
	}
	evidence := d.adoptRunningNetworks()
	d.sweepNetworkOrphans(evidence)
	d.log.Info("loaded network definitions", "dir", r.dir, "count", len(r.all()))
}

func (d *Driver) registerStored(sn storedNetwork) {
	name := sn.def.Def.Name
	uuid, _ := ParseUUID(sn.def.Def.UUID)
	if d.nets.byUUIDGet(uuid) != nil || d.nets.byNameGet(name) != nil {
		d.log.Error("skipping network definition with a duplicate name or UUID", "network", name, "uuid", uuid)
		return
	}
	n := newNetwork(name, uuid)
	n.persistent, n.autostart = sn.def, sn.autostart
	d.nets.add(n)
}

// defineDefaultNetwork defines libvirt's network "default" (inactive, not
// autostarted), which virt-install's default interface refers to.
func (d *Driver) defineDefaultNetwork(subnet netip.Prefix) {
	if _, err := d.NetworkDefineXML(xmlconf.DefaultNetworkXML(subnet), 0); err != nil {
		d.log.Error("define the default network", "err", err)
		return
	}
	d.log.Info("defined the default network", "subnet", subnet)
}

// adoptRunningNetworks reads the status files and takes over each network
// that is still up, or removes what is left of it. It returns the names
// of the networks it found status files for.
func (d *Driver) adoptRunningNetworks() map[string]bool {
	paths, _ := filepath.Glob(filepath.Join(d.nets.stateDir, "*.xml"))
	seen := map[string]bool{}
	for _, p := range paths {
		name := filepath.Base(p[:len(p)-len(".xml")])
		seen[name] = true
		live, err := readStatus(p)
		if err != nil {
			d.log.Error("unusable network status file; removing it", "path", p, "err", err)
			os.Remove(p)
			continue
		}
		d.adoptNetwork(live)
	}
	return seen
}

// adoptNetwork takes over a network a previous daemon started, if it is
// still up, and otherwise removes what is left of it.
func (d *Driver) adoptNetwork(live *xmlconf.Network) {
	name := live.Def.Name
	uuid, _ := ParseUUID(live.Def.UUID)
	n := d.nets.byNameGet(name)
	switch {
	case n != nil && n.uuid != uuid:
		d.log.Error("running network does not match its definition's UUID; stopping it", "network", name)
		d.unplumbNetwork(live)
		return
	case !d.networkAlive(live):
		d.log.Warn("network did not survive; removing what is left of it", "network", name)
		d.unplumbNetwork(live)
		return
	}
	if n == nil {
		n = newNetwork(name, uuid)
		d.nets.add(n)
	}
	n.mu.Lock()
	n.live = live
	n.mu.Unlock()
	d.refreshFirewall(live)
	d.log.Info("took over running network", "network", name, "bridge", bridgeOf(live))
}

// networkAlive reports whether a network's bridge exists and, if it needs
// dnsmasq, whether its dnsmasq runs.
func (d *Driver) networkAlive(live *xmlconf.Network) bool {
	if !netns.LinkExists(bridgeOf(live)) {
		return false
	}
	if !hasOwnBridge(live) {
		return true
	}
	_, needed, err := dnsmasqConfig(live)
	return err == nil && (!needed || dnsmasq.Running(d.nets.dnsmasqDir(live.Def.Name)))
}

// refreshFirewall puts back the firewall table and forwarding holds of a
// network taken over (both are idempotent): a table flushed meanwhile, by
// a firewall reload for example, is restored.
func (d *Driver) refreshFirewall(live *xmlconf.Network) {
	if !hasOwnBridge(live) {
		return
	}
	nn, err := natNetwork(live)
	if err == nil {
		err = nat.Apply(nn)
	}
	if err == nil && len(nat.ForwardSysctls(nn)) > 0 {
		err = d.nets.sysctls.Acquire(nn.Name, nat.ForwardSysctls(nn)...)
	}
	if err != nil {
		d.log.Error("restore firewall of a running network", "network", nn.Name, "err", err)
	}
}

// sweepNetworkOrphans removes what this daemon's networks left that no
// active network owns: forwarding holds (from its own state file),
// dnsmasq processes of its dnsmasq directories, and firewall tables. Only
// tables of networks this daemon has a trace of (a status file, a hold, a
// dnsmasq directory) are removed: the table names are shared by every
// daemon on the host, and another one may run a network of the same name.
func (d *Driver) sweepNetworkOrphans(evidence map[string]bool) {
	active := map[string]bool{}
	for _, n := range d.nets.all() {
		n.mu.Lock()
		active[n.name] = n.live != nil
		n.mu.Unlock()
	}
	holders, err := d.nets.sysctls.Holders()
	if err != nil {
		d.log.Error("read forwarding holds", "err", err)
	}
	for _, h := range holders {
		evidence[h] = true
		if !active[h] {
			d.log.Info("releasing the forwarding hold of a network that is not active", "network", h)
			if err := d.nets.sysctls.Release(h); err != nil {
				d.log.Error("release forwarding hold", "network", h, "err", err)
			}
		}
	}
	d.sweepDnsmasq(active, evidence)
	d.sweepTables(active, evidence)
}

// sweepDnsmasq stops the dnsmasq of every dnsmasq directory whose
// network is not active (dnsmasq.Stop signals only the process started
// for that directory) and removes the directory.
func (d *Driver) sweepDnsmasq(active, evidence map[string]bool) {
	dirs, _ := filepath.Glob(filepath.Join(d.nets.stateDir, "dnsmasq", "*"))
	for _, dir := range dirs {
		name, ok := networkOfDnsmasqDir(filepath.Base(dir))
		if ok && active[name] {
			continue
		}
		if ok {
			evidence[name] = true
		}
		if err := dnsmasq.Stop(dir); err != nil {
			d.log.Error("stop orphaned dnsmasq", "dir", dir, "err", err)
			continue
		}
		os.RemoveAll(dir)
	}
	d.nets.pruneStateDir()
}

// sweepTables removes the firewall tables of inactive networks this
// daemon has a trace of.
func (d *Driver) sweepTables(active, evidence map[string]bool) {
	stale := false
	for name := range evidence {
		stale = stale || !active[name]
	}
	if !stale {
		return // nothing of ours can be left: spare nft a run
	}
	tables, err := nat.ListTables()
	if err != nil {
		d.log.Warn("list firewall tables", "err", err)
		return
	}
	for _, name := range tables {
		if evidence[name] && !active[name] {
			d.log.Info("removing the firewall table of a network that is not active", "network", name)
			if err := nat.Remove(name); err != nil {
				d.log.Error("remove firewall table", "network", name, "err", err)
			}
		}
	}
}

// autostartNetworks starts the persistent networks marked autostart that
// are not running, before domains autostart.
func (d *Driver) autostartNetworks() {
	for _, n := range d.nets.all() {
		n.mu.Lock()
		want := n.autostart && n.live == nil && n.persistent != nil
		ref := NetworkRef{Name: n.name, UUID: n.uuid}
		n.mu.Unlock()
		if !want {
			continue
		}
		if err := d.NetworkCreate(ref); err != nil {
			d.log.Error("autostart network", "network", ref.Name, "err", err)
		}
	}
}
