package driver

import (
	"net"
	"net/netip"
	"slices"

	"github.com/nsvirt/nsvirt/xmlconf"
)

// parseNetwork reads network XML from a client as libvirt's define and
// create do (virNetworkDefParse, then networkValidate): it completes the
// definition and refuses what nsvirt cannot run.
func (d *Driver) parseNetwork(doc string, validate bool) (*xmlconf.Network, error) {
	opts := xmlconf.NetworkParseOptions{Validate: validate, UsedBridges: d.usedBridges("")}
	def, warnings, err := xmlconf.ParseNetwork([]byte(doc), opts)
	if err != nil {
		return nil, xmlError(err)
	}
	if d.nets.byNameGet(def.Def.Name) != nil {
		// A redefinition: the network's own bridge does not count as used
		// (libvirt's skipname), so parse again now that the name is known.
		opts.UsedBridges = d.usedBridges(def.Def.Name)
		if def, warnings, err = xmlconf.ParseNetwork([]byte(doc), opts); err != nil {
			return nil, xmlError(err)
		}
	}
	for _, w := range warnings {
		d.log.Warn("network XML has content libvirt's schema does not know; it is ignored (use --validate to reject it)",
			"network", def.Def.Name, "detail", w)
	}
	if _, _, err := dnsmasqConfig(def); err != nil {
		return nil, err
	}
	if _, err := natNetwork(def); err != nil {
		return nil, err
	}
	return def, nil
}

// bridgeOf returns the bridge name of a definition, "" for none.
func bridgeOf(def *xmlconf.Network) string {
	if def == nil || def.Def.Bridge == nil {
		return ""
	}
	return def.Def.Bridge.Name
}

// usedBridges returns the names a new network's bridge must not take: the
// bridges of the other networks (all but skip) and every host link.
func (d *Driver) usedBridges(skip string) []string {
	var used []string
	for _, n := range d.nets.all() {
		n.mu.Lock()
		if n.name != skip {
			for _, def := range n.defs() {
				used = append(used, bridgeOf(def))
			}
		}
		n.mu.Unlock()
	}
	if ifaces, err := net.Interfaces(); err == nil {
		for _, ifc := range ifaces {
			used = append(used, ifc.Name)
		}
	}
	return used
}

// checkNetworkConflicts applies libvirt's bridge rule (a network with a
// bridge of its own may not name another network's bridge) and nsvirt's
// subnet rule (no two networks may have overlapping subnets). Networks of
// the same name are the one being redefined and are skipped.
func (d *Driver) checkNetworkConflicts(def *xmlconf.Network) error {
	name, bridge, ownBridge := def.Def.Name, bridgeOf(def), hasOwnBridge(def)
	subnets := xmlconf.Subnets(def)
	for _, n := range d.nets.all() {
		n.mu.Lock()
		other, defs := n.name, n.defs()
		n.mu.Unlock()
		if other == name {
			continue
		}
		for _, o := range defs {
			if ownBridge && bridge != "" && bridgeOf(o) == bridge {
				return errorf(KindInternal, "bridge name '%s' already in use.", bridge)
			}
			if err := overlapping(name, subnets, other, xmlconf.Subnets(o)); err != nil {
				return err
			}
		}
	}
	return nil
}

// overlapping refuses subnets of network name that overlap those of
// network other.
func overlapping(name string, subnets []netip.Prefix, other string, theirs []netip.Prefix) error {
	for _, p := range subnets {
		for _, q := range theirs {
			if p.Overlaps(q) {
				return errorf(KindOperationFailed, "subnet %s of network '%s' overlaps subnet %s of network '%s'", p, name, q, other)
			}
		}
	}
	return nil
}

// hasOwnBridge reports whether def's forward mode makes nsvirt run a
// bridge for it (nat, route, open, isolated), as opposed to using a host
// bridge (forward mode bridge).
func hasOwnBridge(def *xmlconf.Network) bool {
	fwd := def.Def.Forward
	return fwd == nil || slices.Contains([]string{"", "none", "nat", "route", "open"}, fwd.Mode)
}

// claimNetwork finds the network def belongs to, or makes a new one,
// with libvirt's rules (virNetworkObjAssignDef): the same UUID with
// another name, or the same name with another UUID, is refused; with live
// set (create), an active network of the same name is too. It returns the
// network with its job lock held; created is set for a new network, which
// is not registered yet. d.nets.defineMu must be held.
func (d *Driver) claimNetwork(def *xmlconf.Network, live bool) (n *network, created bool, err error) {
	name := def.Def.Name
	uuid, _ := ParseUUID(def.Def.UUID)
	for {
		n = d.nets.byUUIDGet(uuid)
		if n == nil {
			if other := d.nets.byNameGet(name); other != nil {
				return nil, false, errorf(KindOperationFailed, "network '%s' already exists with uuid %s", name, other.uuid)
			}
			n = newNetwork(name, uuid)
			n.job <- struct{}{} // new and unregistered: nobody else holds it
			return n, true, nil
		}
		if n.name != name {
			return nil, false, errorf(KindOperationFailed, "network '%s' is already defined with uuid %s", n.name, uuid)
		}
		if err := n.lock(); err != nil {
			return nil, false, err
		}
		if !d.nets.registered(n) {
			n.unlock() // removed while we waited: look again
			continue
		}
		n.mu.Lock()
		active := n.live != nil
		n.mu.Unlock()
		if live && active {
			n.unlock()
			return nil, false, errorf(KindOperationInvalid, "network is already active as '%s'", name)
		}
		return n, false, nil
	}
}

// NetworkDefineXML makes a network persistent from its XML, or replaces
// the persistent definition of an existing one (same name and UUID); a
// running network keeps its live definition until it is restarted.
func (d *Driver) NetworkDefineXML(doc string, flags uint32) (NetworkRef, error) {
	if flags&^NetworkDefineValidate != 0 {
		return NetworkRef{}, unsupportedFlags(flags, "virNetworkDefineXMLFlags")
	}
	// Parsing picks a free bridge name: it belongs under the lock too.
	d.nets.defineMu.Lock()
	defer d.nets.defineMu.Unlock()
	def, err := d.parseNetwork(doc, flags&NetworkDefineValidate != 0)
	if err != nil {
		return NetworkRef{}, err
	}
	if err := d.checkNetworkConflicts(def); err != nil {
		return NetworkRef{}, err
	}
	n, created, err := d.claimNetwork(def, false)
	if err != nil {
		return NetworkRef{}, err
	}
	defer n.unlock()
	if err := d.nets.saveConfig(def); err != nil {
		return NetworkRef{}, errorf(KindOperationFailed, "save definition of network %s: %w", def.Def.Name, err)
	}
	n.mu.Lock()
	n.persistent = def
	ref := NetworkRef{Name: n.name, UUID: n.uuid}
	n.mu.Unlock()
	if created {
		d.nets.add(n)
	}
	d.log.Info("defined network", "network", ref.Name, "uuid", ref.UUID)
	d.emitNetwork(ref, NetEventDefined)
	return ref, nil
}

// NetworkCreateXML creates and starts a transient network from its XML
// (or starts an inactive persistent network of the same name and UUID
// with this definition, which lasts until it stops).
func (d *Driver) NetworkCreateXML(doc string, flags uint32) (NetworkRef, error) {
	if flags&^NetworkCreateValidate != 0 {
		return NetworkRef{}, unsupportedFlags(flags, "virNetworkCreateXMLFlags")
	}
	d.nets.defineMu.Lock()
	defer d.nets.defineMu.Unlock()
	def, err := d.parseNetwork(doc, flags&NetworkCreateValidate != 0)
	if err != nil {
		return NetworkRef{}, err
	}
	if err := d.checkNetworkConflicts(def); err != nil {
		return NetworkRef{}, err
	}
	n, created, err := d.claimNetwork(def, true)
	if err != nil {
		return NetworkRef{}, err
	}
	defer n.unlock()
	if err := d.startNetwork(n, def); err != nil {
		return NetworkRef{}, err
	}
	if created {
		d.nets.add(n)
	}
	ref := n.ref()
	d.log.Info("created network", "network", ref.Name, "uuid", ref.UUID)
	d.emitNetwork(ref, NetEventStarted)
	return ref, nil
}

// NetworkUndefine removes a network's persistent definition. An active
// network becomes transient and disappears when it stops.
func (d *Driver) NetworkUndefine(ref NetworkRef) error {
	return d.withNetworkJob(ref, func(n *network) error {
		n.mu.Lock()
		persistent := n.persistent != nil
		n.mu.Unlock()
		if !persistent {
			return errorf(KindOperationInvalid, "can't undefine transient network")
		}
		if err := d.nets.removeConfig(n.name); err != nil {
			return errorf(KindOperationFailed, "undefine network %s: %w", n.name, err)
		}
		n.mu.Lock()
		n.persistent, n.autostart = nil, false
		gone := n.live == nil
		r := NetworkRef{Name: n.name, UUID: n.uuid}
		n.mu.Unlock()
		if gone {
			d.forgetNetwork(n)
		}
		d.log.Info("undefined network", "network", r.Name)
		d.emitNetwork(r, NetEventUndefined)
		return nil
	})
}

// forgetNetwork removes an inactive network that has no definition left
// from the registry.
func (d *Driver) forgetNetwork(n *network) { d.nets.remove(n) }
