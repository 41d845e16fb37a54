package driver

import (
	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/xmlconf"
)

// LookupByName finds a domain by name.
func (d *Driver) LookupByName(name string) (DomainRef, error) {
	if dom := d.doms.byNameGet(name); dom != nil && dom.visible() {
		return dom.ref(), nil
	}
	return DomainRef{}, errorf(KindNoDomain, "no domain with matching name '%s'", name)
}

// LookupByUUID finds a domain by UUID.
func (d *Driver) LookupByUUID(u UUID) (DomainRef, error) {
	if dom := d.doms.byUUIDGet(u); dom != nil && dom.visible() {
		return dom.ref(), nil
	}
	return DomainRef{}, errorf(KindNoDomain, "no domain with matching uuid '%s'", u)
}

// LookupByID finds a running domain by ID.
func (d *Driver) LookupByID(id int) (DomainRef, error) {
	for _, dom := range d.doms.all() {
		if r := dom.ref(); r.ID == id && id > 0 {
			return r, nil
		}
	}
	return DomainRef{}, errorf(KindNoDomain, "no domain with matching id %d", id)
}

// visible reports whether the domain has a definition yet (a define that
// is still being saved is not listed).
func (dom *domain) visible() bool {
	dom.mu.Lock()
	defer dom.mu.Unlock()
	return dom.persistent != nil || dom.live != nil
}

// snapshot runs fn with the domain's fields locked; queries use it and
// never wait for a job in progress.
func (d *Driver) snapshot(ref DomainRef, fn func(dom *domain) error) error {
	dom, err := d.find(ref)
	if err != nil {
		return err
	}
	dom.mu.Lock()
	defer dom.mu.Unlock()
	if dom.persistent == nil && dom.live == nil {
		return errorf(KindNoDomain, "no domain with matching uuid '%s' (%s)", ref.UUID, ref.Name)
	}
	return fn(dom)
}

// XML flags (virDomainXMLFlags).
const (
	XMLSecure      = 1
	XMLInactive    = 2
	XMLUpdateCPU   = 4
	XMLMigratable  = 8
	xmlKnownFlags  = XMLSecure | XMLInactive | XMLUpdateCPU | XMLMigratable
	getXMLDescFunc = "virDomainGetXMLDesc"
)

// XMLDesc returns a domain's XML: the live definition with its ID while it
// runs, or with XMLInactive the persistent definition.
func (d *Driver) XMLDesc(ref DomainRef, flags uint32) (string, error) {
	if flags&^xmlKnownFlags != 0 {
		return "", unsupportedFlags(flags, getXMLDescFunc)
	}
	var out string
	err := d.snapshot(ref, func(dom *domain) error {
		def, opts := dom.def(), xmlconf.FormatOptions{Secure: flags&XMLSecure != 0}
		if flags&XMLInactive != 0 && dom.persistent != nil {
			def = dom.persistent
		}
		if def == dom.live && flags&XMLInactive == 0 {
			opts.ID = dom.id
		} else {
			opts.Inactive = true
		}
		var err error
		out, err = xmlconf.FormatDomain(def, opts)
		return err
	})
	return out, err
}

// DomainInfo is what virDomainGetInfo reports.
type DomainInfo struct {
	State     int
	MaxMemKiB uint64
	MemoryKiB uint64
	VCPUs     int
	CPUTimeNs uint64
}

// Info returns a domain's state, memory and CPU figures.
func (d *Driver) Info(ref DomainRef) (DomainInfo, error) {
	var info DomainInfo
	err := d.snapshot(ref, func(dom *domain) error {
		def := dom.def().Def
		info = DomainInfo{State: dom.state, MaxMemKiB: memoryKiB(def), VCPUs: vcpus(def)}
		info.MemoryKiB = currentMemoryKiB(def)
		if dom.rt == nil {
			return nil
		}
		// A running container's figures are its cgroup's, as in libvirt.
		u, err := dom.usage()
		if err != nil {
			return err
		}
		info.CPUTimeNs, info.MemoryKiB = u.CPUTime, u.MemoryUsage/1024
		return nil
	})
	return info, err
}

// State returns a domain's state and its reason.
func (d *Driver) State(ref DomainRef) (state, reason int, err error) {
	err = d.snapshot(ref, func(dom *domain) error {
		state, reason = dom.state, dom.reason
		return nil
	})
	return state, reason, err
}

// IsActive reports whether the domain runs.
func (d *Driver) IsActive(ref DomainRef) (bool, error) {
	var v bool
	err := d.snapshot(ref, func(dom *domain) error { v = dom.active(); return nil })
	return v, err
}

// IsPersistent reports whether the domain has a persistent definition.
func (d *Driver) IsPersistent(ref DomainRef) (bool, error) {
	var v bool
	err := d.snapshot(ref, func(dom *domain) error { v = dom.persistent != nil; return nil })
	return v, err
}

// IsUpdated reports whether the persistent definition changed since the
// running domain started.
func (d *Driver) IsUpdated(ref DomainRef) (bool, error) {
	var v bool
	err := d.snapshot(ref, func(dom *domain) error { v = dom.updated; return nil })
	return v, err
}

// OSType returns the domain's OS type, "exe" for containers.
func (d *Driver) OSType(ref DomainRef) (string, error) {
	var v string
	err := d.snapshot(ref, func(dom *domain) error {
		if os := dom.def().Def.OS; os != nil && os.Type != nil {
			v = os.Type.Type
		}
		return nil
	})
	return v, err
}

// MaxMemory returns the domain's maximum memory in KiB.
func (d *Driver) MaxMemory(ref DomainRef) (uint64, error) {
	var v uint64
	err := d.snapshot(ref, func(dom *domain) error { v = memoryKiB(dom.def().Def); return nil })
	return v, err
}

// Autostart reports whether the domain starts with the daemon.
func (d *Driver) Autostart(ref DomainRef) (bool, error) {
	var v bool
	err := d.snapshot(ref, func(dom *domain) error { v = dom.autostart; return nil })
	return v, err
}

// SetAutostart marks a persistent domain to start, or not, with the daemon.
func (d *Driver) SetAutostart(ref DomainRef, on bool) error {
	return d.withJob(ref, func(dom *domain) error {
		dom.mu.Lock()
		persistent, name := dom.persistent != nil, dom.name
		dom.mu.Unlock()
		if !persistent {
			return errorf(KindOperationInvalid, "cannot set autostart for transient domain")
		}
		if err := d.store.setAutostart(name, on); err != nil {
			return errorf(KindOperationFailed, "%w", err)
		}
		dom.mu.Lock()
		dom.autostart = on
		dom.mu.Unlock()
		return nil
	})
}

// SecurityLabel returns the label of the domain's init process. nsvirt
// runs without an SELinux or AppArmor driver (model "none"), so the label
// is empty, as libvirt reports it with that model.
func (d *Driver) SecurityLabel(ref DomainRef) (string, error) {
	return "", d.snapshot(ref, func(*domain) error { return nil })
}

// List filter flags (virConnectListAllDomainsFlags).
const (
	ListActive        = 1 << 0
	ListInactive      = 1 << 1
	ListPersistent    = 1 << 2
	ListTransient     = 1 << 3
	ListRunning       = 1 << 4
	ListPaused        = 1 << 5
	ListShutoff       = 1 << 6
	ListOther         = 1 << 7
	ListManagedSave   = 1 << 8
	ListNoManagedSave = 1 << 9
	ListAutostart     = 1 << 10
	ListNoAutostart   = 1 << 11
	ListHasSnapshot   = 1 << 12
	ListNoSnapshot    = 1 << 13
	ListHasCheckpoint = 1 << 14
	ListNoCheckpoint  = 1 << 15
	listKnownFlags    = 1<<16 - 1
)

// ListDomains returns the domains selected by libvirt's
// VIR_CONNECT_LIST_DOMAINS_* filters: within each group (active/inactive,
// persistent/transient, state, managed save, autostart, snapshot,
// checkpoint) a domain must match one of the flags given, and a group with
// no flag set does not filter.
func (d *Driver) ListDomains(flags uint32) ([]DomainRef, error) {
	if flags&^listKnownFlags != 0 {
		return nil, unsupportedFlags(flags, "virConnectListAllDomains")
	}
	var out []DomainRef
	for _, dom := range d.doms.all() {
		dom.mu.Lock()
		ok := (dom.persistent != nil || dom.live != nil) && dom.matches(flags)
		ref := dom.refLocked()
		dom.mu.Unlock()
		if ok {
			out = append(out, ref)
		}
	}
	return out, nil
}

func (dom *domain) matches(f uint32) bool {
	state := ListOther
	switch dom.state {
	case StateRunning:
		state = ListRunning
	case StatePaused:
		state = ListPaused
	case StateShutoff:
		state = ListShutoff
	}
	groups := []struct {
		mask uint32
		bit  uint32
	}{
		{ListActive | ListInactive, pick(dom.active(), ListActive, ListInactive)},
		{ListPersistent | ListTransient, pick(dom.persistent != nil, ListPersistent, ListTransient)},
		{ListRunning | ListPaused | ListShutoff | ListOther, uint32(state)},
		{ListManagedSave | ListNoManagedSave, ListNoManagedSave},
		{ListAutostart | ListNoAutostart, pick(dom.autostart, ListAutostart, ListNoAutostart)},
		{ListHasSnapshot | ListNoSnapshot, ListNoSnapshot},
		{ListHasCheckpoint | ListNoCheckpoint, ListNoCheckpoint},
	}
	for _, g := range groups {
		if f&g.mask != 0 && f&g.bit == 0 {
			return false
		}
	}
	return true
}

func pick(cond bool, yes, no uint32) uint32 {
	if cond {
		return yes
	}
	return no
}

// memoryKiB returns <memory>; definitions are normalised to KiB on parse.
func memoryKiB(def *libvirtxml.Domain) uint64 {
	if def.Memory == nil {
		return 0
	}
	return uint64(def.Memory.Value)
}

// currentMemoryKiB returns <currentMemory>, or <memory> when absent.
func currentMemoryKiB(def *libvirtxml.Domain) uint64 {
	if def.CurrentMemory == nil {
		return memoryKiB(def)
	}
	return uint64(def.CurrentMemory.Value)
}

func vcpus(def *libvirtxml.Domain) int {
	if def.VCPU == nil {
		return 1
	}
	if def.VCPU.Current > 0 {
		return int(def.VCPU.Current)
	}
	return int(def.VCPU.Value)
}
