package driver

import (
	"net"

	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/netns"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// Device changes (virsh attach-interface, detach-interface,
// attach-device with an <interface>): on the persistent definition with
// AffectConfig, on the running container with AffectLive.

// DeviceModifyForce is VIR_DOMAIN_DEVICE_MODIFY_FORCE (update only).
const DeviceModifyForce = 4

// AttachDevice adds the <interface> described by doc.
func (d *Driver) AttachDevice(ref DomainRef, doc string, flags uint32) error {
	if flags&^(AffectLive|AffectConfig) != 0 {
		return unsupportedFlags(flags, "virDomainAttachDeviceFlags")
	}
	iface, err := xmlconf.ParseDeviceInterface([]byte(doc))
	if err != nil {
		return xmlError(err)
	}
	return d.withJob(ref, func(dom *domain) error {
		live, config, err := d.deviceTargets(dom, flags)
		if err != nil {
			return err
		}
		if err := d.giveMAC(dom, iface, live, config); err != nil {
			return err
		}
		var newPersistent *xmlconf.Domain
		if config {
			newPersistent = dom.persistent.Clone()
			addInterface(newPersistent.Def, *iface)
		}
		if live {
			if err := d.attachLive(dom, *iface); err != nil {
				return err
			}
		}
		return d.saveDevices(dom, newPersistent)
	})
}

// deviceTargets resolves the flags of a device change.
func (d *Driver) deviceTargets(dom *domain, flags uint32) (live, config bool, err error) {
	dom.mu.Lock()
	defer dom.mu.Unlock()
	return dom.targets(flags)
}

// giveMAC checks iface against the definitions it joins and gives it a
// MAC address when it has none, unique in both.
func (d *Driver) giveMAC(dom *domain, iface *libvirtxml.DomainInterface, live, config bool) error {
	dom.mu.Lock()
	defer dom.mu.Unlock()
	probe := &libvirtxml.Domain{Devices: &libvirtxml.DomainDeviceList{}}
	for _, target := range []struct {
		on  bool
		def *xmlconf.Domain
	}{{live, dom.live}, {config, dom.persistent}} {
		if !target.on {
			continue
		}
		if err := xmlconf.CheckInterfaceAttach(target.def.Def, iface); err != nil {
			return xmlError(err)
		}
		probe.Devices.Interfaces = append(probe.Devices.Interfaces, devices(target.def.Def).Interfaces...)
	}
	if iface.MAC == nil {
		probe.Devices.Interfaces = append(probe.Devices.Interfaces, *iface)
		xmlconf.FillInterfaceDefaults(probe, nil)
		iface.MAC = probe.Devices.Interfaces[len(probe.Devices.Interfaces)-1].MAC
	}
	return nil
}

func addInterface(def *libvirtxml.Domain, iface libvirtxml.DomainInterface) {
	if def.Devices == nil {
		def.Devices = &libvirtxml.DomainDeviceList{}
	}
	def.Devices.Interfaces = append(def.Devices.Interfaces, iface)
}

// attachLive plumbs iface into the running container and adds it to the
// live definition.
func (d *Driver) attachLive(dom *domain, iface libvirtxml.DomainInterface) error {
	rt, err := runningRuntime(dom)
	if err != nil {
		return err
	}
	dom.mu.Lock()
	ownNet := dom.live.Def.Features != nil && dom.live.Def.Features.PrivNet != nil || rt.net != nil
	dom.mu.Unlock()
	if !ownNet {
		return errorf(KindOperationInvalid, "Cannot attach network device to a container sharing the host's network namespace; give it <privnet/> or an interface at start")
	}
	spec, err := xmlconf.InterfaceSpecOf(&iface)
	if err != nil {
		return xmlError(err)
	}
	ni, err := d.interfaceFor(spec)
	if err != nil {
		return err
	}
	if rt.net == nil {
		rt.net = &netns.Plumbing{}
	}
	if _, err := rt.net.Attach(netns.OfPID(rt.initPid), ni.iface); err != nil {
		return plumbError(dom.name, err)
	}
	if ni.network != "" {
		rt.networks = append(rt.networks, ni.network)
		d.networkConnections(ni.network, 1)
	}
	dom.mu.Lock()
	defer dom.mu.Unlock()
	newLive := dom.live.Clone()
	addInterface(newLive.Def, iface)
	interfaceDetails(newLive.Def, rt)
	dom.live = newLive
	return nil
}

// saveDevices stores a changed persistent definition and the status of a
// running domain.
func (d *Driver) saveDevices(dom *domain, newPersistent *xmlconf.Domain) error {
	dom.mu.Lock()
	defer dom.mu.Unlock()
	if dom.rt != nil {
		if err := d.saveStatus(dom); err != nil {
			d.log.Error("save status", "domain", dom.name, "err", err)
		}
	}
	if newPersistent == nil {
		return nil
	}
	if err := d.store.save(dom.name, newPersistent); err != nil {
		return errorf(KindOperationFailed, "save definition of %s: %w", dom.name, err)
	}
	dom.persistent = newPersistent
	return nil
}

// DetachDevice removes the <interface> that doc names (by MAC address, or
// by type and source).
func (d *Driver) DetachDevice(ref DomainRef, doc string, flags uint32) error {
	if flags&^(AffectLive|AffectConfig) != 0 {
		return unsupportedFlags(flags, "virDomainDetachDeviceFlags")
	}
	want, err := xmlconf.ParseDeviceInterface([]byte(doc))
	if err != nil {
		return xmlError(err)
	}
	return d.withJob(ref, func(dom *domain) error {
		live, config, err := d.deviceTargets(dom, flags)
		if err != nil {
			return err
		}
		var newPersistent *xmlconf.Domain
		if config {
			dom.mu.Lock()
			newPersistent = dom.persistent.Clone()
			dom.mu.Unlock()
			if err := removeInterface(newPersistent.Def, want); err != nil {
				return err
			}
		}
		if live {
			if err := d.detachLive(dom, want); err != nil {
				return err
			}
		}
		return d.saveDevices(dom, newPersistent)
	})
}

// removeInterface deletes the interface want names from def.
func removeInterface(def *libvirtxml.Domain, want *libvirtxml.DomainInterface) error {
	i, err := xmlconf.FindInterface(def, want)
	if err != nil {
		return xmlError(err)
	}
	def.Devices.Interfaces = append(def.Devices.Interfaces[:i], def.Devices.Interfaces[i+1:]...)
	return nil
}

// detachLive removes an interface from the running container and from
// the live definition.
func (d *Driver) detachLive(dom *domain, want *libvirtxml.DomainInterface) error {
	rt, err := runningRuntime(dom)
	if err != nil {
		return err
	}
	dom.mu.Lock()
	newLive := dom.live.Clone()
	dom.mu.Unlock()
	i, err := xmlconf.FindInterface(newLive.Def, want)
	if err != nil {
		return xmlError(err)
	}
	ifc := newLive.Def.Devices.Interfaces[i]
	if l, ok := linkOf(rt.net, &ifc); ok {
		if err := rt.net.Detach(netns.OfPID(rt.initPid), l.GuestName); err != nil {
			return plumbError(dom.name, err)
		}
	}
	if spec, err := xmlconf.InterfaceSpecOf(&ifc); err == nil && spec.Network != "" {
		rt.networks = removeOne(rt.networks, spec.Network)
		d.networkConnections(spec.Network, -1)
	}
	newLive.Def.Devices.Interfaces = append(newLive.Def.Devices.Interfaces[:i], newLive.Def.Devices.Interfaces[i+1:]...)
	dom.mu.Lock()
	dom.live = newLive
	dom.mu.Unlock()
	return nil
}

func removeOne(list []string, v string) []string {
	for i, s := range list {
		if s == v {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// UpdateDevice replaces the <interface> with the same MAC address in the
// persistent definition. Live updates of interfaces are not supported.
func (d *Driver) UpdateDevice(ref DomainRef, doc string, flags uint32) error {
	if flags&^(AffectLive|AffectConfig|DeviceModifyForce) != 0 {
		return unsupportedFlags(flags, "virDomainUpdateDeviceFlags")
	}
	iface, err := xmlconf.ParseDeviceInterface([]byte(doc))
	if err != nil {
		return xmlError(err)
	}
	return d.withJob(ref, func(dom *domain) error {
		live, config, err := d.deviceTargets(dom, flags&^DeviceModifyForce)
		if err != nil {
			return err
		}
		if live {
			return errorf(KindConfigUnsupported, "device type 'interface' cannot be updated on a running container")
		}
		if !config {
			return nil
		}
		dom.mu.Lock()
		newPersistent := dom.persistent.Clone()
		dom.mu.Unlock()
		i, err := xmlconf.FindInterface(newPersistent.Def, iface)
		if err != nil {
			return xmlError(err)
		}
		if iface.MAC == nil {
			iface.MAC = newPersistent.Def.Devices.Interfaces[i].MAC
		}
		newPersistent.Def.Devices.Interfaces[i] = *iface
		return d.saveDevices(dom, newPersistent)
	})
}

// macOf returns an interface's MAC address in canonical form.
func macOf(ifc *libvirtxml.DomainInterface) string {
	if ifc.MAC == nil {
		return ""
	}
	if m, err := net.ParseMAC(ifc.MAC.Address); err == nil {
		return m.String()
	}
	return ifc.MAC.Address
}
