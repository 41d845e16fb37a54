package driver

import (
	"slices"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/cgroups"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// Flags selecting which definition a change affects
// (virDomainModificationImpact), and VIR_DOMAIN_MEM_MAXIMUM.
const (
	AffectCurrent = 0
	AffectLive    = 1
	AffectConfig  = 2
	MemMaximum    = 4
)

// targets resolves AFFECT_CURRENT/LIVE/CONFIG for a domain as libvirt's
// virDomainObjUpdateModificationImpact does. Call with dom.mu held.
func (dom *domain) targets(flags uint32) (live, config bool, err error) {
	live, config = flags&AffectLive != 0, flags&AffectConfig != 0
	if !live && !config {
		live, config = dom.active(), !dom.active()
	}
	if live && !dom.active() {
		return false, false, errorf(KindOperationInvalid, "domain is not running")
	}
	if config && dom.persistent == nil {
		return false, false, errorf(KindOperationInvalid, "cannot change persistent config of a transient domain")
	}
	return live, config, nil
}

// modify applies change to the definitions the flags select, saves the
// persistent one, and then runs after (for events) with dom.mu held. Both
// definitions are changed on copies, so a failed change or save leaves
// everything as it was.
func (d *Driver) modify(ref DomainRef, flags uint32, change func(def *libvirtxml.Domain, live bool) error, after func(dom *domain)) error {
	return d.modifyWith(ref, flags, change, nil, after)
}

// modifyLive is modify for tuning: a changed live definition is applied
// to the running container's cgroup before it replaces the old one.
func (d *Driver) modifyLive(ref DomainRef, flags uint32, change func(def *libvirtxml.Domain, live bool) error) error {
	return d.modifyWith(ref, flags, change, d.applyTuning, nil)
}

func (d *Driver) modifyWith(ref DomainRef, flags uint32, change func(def *libvirtxml.Domain, live bool) error,
	apply func(dom *domain, live *xmlconf.Domain) error, after func(dom *domain)) error {
	return d.withJob(ref, func(dom *domain) error {
		dom.mu.Lock()
		defer dom.mu.Unlock()
		live, config, err := dom.targets(flags)
		if err != nil {
			return err
		}
		var newPersistent, newLive *xmlconf.Domain
		if config {
			newPersistent = dom.persistent.Clone()
			if err := change(newPersistent.Def, false); err != nil {
				return err
			}
		}
		if live {
			newLive = dom.live.Clone()
			if err := change(newLive.Def, true); err != nil {
				return err
			}
			if apply != nil {
				if err := apply(dom, newLive); err != nil {
					return err
				}
			}
		}
		if config {
			if err := d.store.save(dom.name, newPersistent); err != nil {
				return errorf(KindOperationFailed, "save definition of %s: %w", dom.name, err)
			}
			dom.persistent = newPersistent
		}
		if live {
			dom.live = newLive
			if err := d.saveStatus(dom); err != nil {
				d.log.Error("save status", "domain", dom.name, "err", err)
			}
		}
		if after != nil {
			after(dom)
		}
		return nil
	})
}

// applyTuning brings a running container's cgroup to the limits of its
// changed live definition; on failure it restores the old limits. Device
// rules are left as they are.
func (d *Driver) applyTuning(dom *domain, live *xmlconf.Domain) error {
	g := dom.rt.group
	if g == nil {
		return errorf(KindOperationInvalid, "domain %s has no cgroup", dom.name)
	}
	res, err := d.tuningResources(live.Def)
	if err != nil {
		return err
	}
	res.BlkioDevices = withDropped(res.BlkioDevices, dom.live.Def)
	if err := g.Set(res); err != nil {
		if old, oldErr := d.tuningResources(dom.live.Def); oldErr == nil {
			if rerr := g.Set(old); rerr != nil {
				d.log.Error("restore cgroup limits", "domain", dom.name, "err", rerr)
			}
		}
		return errorf(KindOperationFailed, "apply limits to %s: %w", dom.name, err)
	}
	return nil
}

// withDropped adds the block devices that old had tuning for and devs
// lacks, with no limits, so that their limits are removed, and marks the
// weights that old had and devs no longer has for removal.
func withDropped(devs []cgroups.BlkioDevice, old *libvirtxml.Domain) []cgroups.BlkioDevice {
	var before cgroups.Resources
	if blkioResources(old, &before) != nil {
		return devs
	}
	for _, o := range before.BlkioDevices {
		i := slices.IndexFunc(devs, func(n cgroups.BlkioDevice) bool { return n.Major == o.Major && n.Minor == o.Minor })
		if i < 0 {
			i = len(devs)
			devs = append(devs, cgroups.BlkioDevice{Major: o.Major, Minor: o.Minor})
		}
		devs[i].ResetWeight = o.Weight != 0 && devs[i].Weight == 0
	}
	return devs
}

// tuningResources are the cgroup settings live tuning may change.
func (d *Driver) tuningResources(def *libvirtxml.Domain) (cgroups.Resources, error) {
	res, err := d.resources(def)
	res.Devices, res.Hugepages, res.CountIO = nil, nil, nil
	return res, err
}

// SetMemory changes a domain's memory (KiB): with MemMaximum its maximum
// (<memory>, config only), otherwise its current allocation
// (<currentMemory>, and the memory limit of a running container).
func (d *Driver) SetMemory(ref DomainRef, kib uint64, flags uint32) error {
	if flags&^(AffectLive|AffectConfig|MemMaximum) != 0 {
		return unsupportedFlags(flags, "virDomainSetMemoryFlags")
	}
	if kib == 0 {
		return errorf(KindInvalidArg, "memory size must be greater than zero")
	}
	return d.modifyLive(ref, flags&^MemMaximum, func(def *libvirtxml.Domain, live bool) error {
		if flags&MemMaximum != 0 {
			if live {
				return errorf(KindOperationInvalid, "Cannot resize the max memory on an active domain")
			}
			def.Memory = &libvirtxml.DomainMemory{Value: uint(kib), Unit: "KiB"}
			if currentMemoryKiB(def) > kib {
				def.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(kib), Unit: "KiB"}
			}
			return nil
		}
		if kib > memoryKiB(def) {
			return errorf(KindInvalidArg, "cannot set memory higher than max memory")
		}
		def.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(kib), Unit: "KiB"}
		return nil
	})
}

// Metadata types.
const metadataLast = 3

// SetMetadata sets or removes a domain's description, title or custom
// metadata element (virDomainSetMetadata).
func (d *Driver) SetMetadata(ref DomainRef, typ int, value, key, uri *string, flags uint32) error {
	if flags&^(AffectLive|AffectConfig) != 0 {
		return unsupportedFlags(flags, "virDomainSetMetadata")
	}
	if typ < 0 || typ >= metadataLast {
		return errorf(KindInvalidArg, "unknown metadata type '%d'", typ)
	}
	if typ == MetadataElement && (uri == nil || value != nil && key == nil) {
		return errorf(KindInvalidArg, "metadata element needs a namespace uri and, to set it, a key")
	}
	text := ""
	if value != nil {
		text = *value
	}
	var nsuri string
	if uri != nil {
		nsuri = *uri
	}
	if typ == MetadataTitle && strings.Contains(text, "\n") {
		return errorf(KindInvalidArg, "title can't contain newlines")
	}
	return d.modify(ref, flags, func(def *libvirtxml.Domain, _ bool) error {
		switch typ {
		case MetadataDescription:
			def.Description = text
		case MetadataTitle:
			def.Title = text
		default:
			k := ""
			if key != nil {
				k = *key
			}
			if err := xmlconf.SetMetadataElement(def, text, k, nsuri); err != nil {
				return xmlError(err)
			}
		}
		return nil
	}, func(dom *domain) {
		d.events.emit(MetadataChangeEvent{Dom: dom.refLocked(), Type: int32(typ), NSURI: nsuri})
	})
}

// Metadata returns a domain's description, title or custom metadata
// element.
func (d *Driver) Metadata(ref DomainRef, typ int, uri string, flags uint32) (string, error) {
	if flags&^(AffectLive|AffectConfig) != 0 {
		return "", unsupportedFlags(flags, "virDomainGetMetadata")
	}
	if typ < 0 || typ >= metadataLast {
		return "", errorf(KindInvalidArg, "unknown metadata type '%d'", typ)
	}
	var out string
	var found bool
	err := d.snapshot(ref, func(dom *domain) error {
		def := dom.def()
		if flags&AffectConfig != 0 && dom.persistent != nil {
			def = dom.persistent
		}
		switch typ {
		case MetadataDescription:
			out, found = def.Def.Description, def.Def.Description != ""
		case MetadataTitle:
			out, found = def.Def.Title, def.Def.Title != ""
		default:
			var err error
			if out, found, err = xmlconf.MetadataElement(def.Def, uri); err != nil {
				return xmlError(err)
			}
		}
		return nil
	})
	if err == nil && !found {
		err = errorf(KindNoDomainMetadata, "Requested metadata element is not present")
	}
	return out, err
}
