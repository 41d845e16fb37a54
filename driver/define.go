package driver

import (
	"context"
	"errors"

	"github.com/nsvirt/nsvirt/driver/host"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// Flags of DefineXMLFlags and CreateXML (virDomainDefineFlags,
// virDomainCreateFlags).
const (
	DefineValidate = 1 // VIR_DOMAIN_DEFINE_VALIDATE
)

// Flags of UndefineFlags (virDomainUndefineFlagsValues). None of them
// concerns an LXC domain (no managed save, snapshots, NVRAM, checkpoints or
// TPM state exist), so all are accepted and have nothing to remove.
const undefineKnownFlags = 1 | 2 | 4 | 8 | 16 | 32 | 64

func (d *Driver) parseOptions(validate bool) xmlconf.ParseOptions {
	return xmlconf.ParseOptions{Validate: validate, Emulator: d.cfg.Emulator, HostArch: host.Arch()}
}

// parse reads domain XML from a client and reports dropped content in the
// log.
func (d *Driver) parse(doc string, validate bool) (*xmlconf.Domain, error) {
	def, warnings, err := xmlconf.ParseDomain([]byte(doc), d.parseOptions(validate))
	if err != nil {
		return nil, xmlError(err)
	}
	for _, w := range warnings {
		d.log.Warn("domain XML has content libvirt's schema does not know; it is ignored (use --validate to reject it)",
			"domain", def.Def.Name, "detail", w)
	}
	return def, nil
}

// xmlError gives an xmlconf error its driver kind.
func xmlError(err error) error {
	var xe *xmlconf.Error
	if !errors.As(err, &xe) {
		return errorf(KindXML, "%w", err)
	}
	kinds := map[xmlconf.ErrorKind]Kind{
		xmlconf.ErrXML: KindXML, xmlconf.ErrXMLDetail: KindXMLDetail, xmlconf.ErrSchema: KindXMLInvalidSchema,
		xmlconf.ErrConfigUnsupported: KindConfigUnsupported, xmlconf.ErrInvalidArg: KindInvalidArg,
		xmlconf.ErrInternal: KindInternal, xmlconf.ErrNoName: KindNoName, xmlconf.ErrOverflow: KindOverflow,
		xmlconf.ErrNoSource: KindNoSource, xmlconf.ErrNoTarget: KindNoTarget,
		xmlconf.ErrOperationFailed: KindOperationFailed, xmlconf.ErrDeviceMissing: KindDeviceMissing,
	}
	return &Error{Kind: kinds[xe.Kind], Msg: xe.Msg, Err: err}
}

func unsupportedFlags(flags uint32, fn string) error {
	return errorf(KindInvalidArg, "unsupported flags (0x%x) in function %s", flags, fn)
}

func uuidOf(def *xmlconf.Domain) UUID {
	u, _ := ParseUUID(def.Def.UUID)
	return u
}

// DefineXML makes a domain persistent from its XML, or updates the
// definition of an existing one (same name and UUID). A running domain
// keeps running with its live definition; the new one applies from its
// next start.
func (d *Driver) DefineXML(doc string, flags uint32) (DomainRef, error) {
	if flags&^DefineValidate != 0 {
		return DomainRef{}, unsupportedFlags(flags, "virDomainDefineXMLFlags")
	}
	def, err := d.parse(doc, flags&DefineValidate != 0)
	if err != nil {
		return DomainRef{}, err
	}
	d.defineMu.Lock()
	dom, created, err := d.claim(def)
	d.defineMu.Unlock()
	if err != nil {
		return DomainRef{}, err
	}
	if err := dom.lock(context.Background()); err != nil {
		return DomainRef{}, err
	}
	defer dom.unlock()
	if err := d.store.save(def.Def.Name, def); err != nil {
		if created {
			d.doms.remove(dom)
		}
		return DomainRef{}, errorf(KindOperationFailed, "save definition of %s: %w", def.Def.Name, err)
	}
	dom.mu.Lock()
	detail := int32(DetailDefinedUpdated)
	if dom.persistent == nil {
		detail = DetailDefinedAdded
	}
	dom.persistent = def
	dom.updated = dom.live != nil && detail == DetailDefinedUpdated
	ref := dom.refLocked()
	d.events.emit(LifecycleEvent{Dom: ref, Event: EventDefined, Detail: detail})
	dom.mu.Unlock()
	return ref, nil
}

// claim finds the domain def belongs to, or registers a new one, applying
// libvirt's rules: the same name and UUID update a domain; the same name
// with another UUID, or the same UUID with another name, is an error.
func (d *Driver) claim(def *xmlconf.Domain) (*domain, bool, error) {
	name, uuid := def.Def.Name, uuidOf(def)
	if dom := d.doms.byUUIDGet(uuid); dom != nil {
		if dom.name != name {
			return nil, false, errorf(KindOperationFailed, "domain '%s' is already defined with uuid %s", dom.name, uuid)
		}
		return dom, false, nil
	}
	if dom := d.doms.byNameGet(name); dom != nil {
		return nil, false, errorf(KindOperationFailed, "domain '%s' already exists with uuid %s", name, dom.uuid)
	}
	dom := newDomain(name, uuid)
	d.doms.add(dom)
	return dom, true, nil
}

// Undefine removes a domain's persistent definition. A running domain
// becomes transient and disappears when it stops.
func (d *Driver) Undefine(ref DomainRef, flags uint32) error {
	if flags&^undefineKnownFlags != 0 {
		return unsupportedFlags(flags, "virDomainUndefineFlags")
	}
	return d.withJob(ref, func(dom *domain) error {
		dom.mu.Lock()
		persistent := dom.persistent != nil
		dom.mu.Unlock()
		if !persistent {
			return errorf(KindOperationInvalid, "cannot undefine transient domain")
		}
		if err := d.store.remove(dom.name); err != nil {
			return errorf(KindOperationFailed, "remove definition of %s: %w", dom.name, err)
		}
		dom.mu.Lock()
		dom.persistent, dom.autostart, dom.updated = nil, false, false
		gone := dom.live == nil
		ref := dom.refLocked()
		if gone {
			d.doms.remove(dom)
		}
		d.events.emit(LifecycleEvent{Dom: ref, Event: EventUndefined, Detail: DetailUndefinedRemoved})
		dom.mu.Unlock()
		return nil
	})
}

// NativeFormat is the only native configuration format of the LXC
// driver: lxc-tools container configs.
const NativeFormat = "lxc-tools"

// XMLFromNative converts an lxc-tools config to domain XML
// (virConnectDomainXMLFromNative). Keys that have no equivalent are
// logged and skipped.
func (d *Driver) XMLFromNative(format, config string, flags uint32) (string, error) {
	if flags != 0 {
		return "", unsupportedFlags(flags, "virConnectDomainXMLFromNative")
	}
	if format != NativeFormat {
		return "", errorf(KindInvalidArg, "unsupported config type %s", format)
	}
	def, warnings, err := xmlconf.FromNative([]byte(config), xmlconf.NativeOptions{Emulator: d.cfg.Emulator, HostArch: host.Arch()})
	if err != nil {
		return "", xmlError(err)
	}
	for _, w := range warnings {
		d.log.Warn("lxc-tools config: part not converted", "detail", w)
	}
	return xmlconf.FormatDomain(def, xmlconf.FormatOptions{Inactive: true})
}

// XMLToNative converts domain XML to an lxc-tools config for LXC 5
// (virConnectDomainXMLToNative, which libvirt's LXC driver lacks).
func (d *Driver) XMLToNative(format, doc string, flags uint32) (string, error) {
	if flags != 0 {
		return "", unsupportedFlags(flags, "virConnectDomainXMLToNative")
	}
	if format != NativeFormat {
		return "", errorf(KindInvalidArg, "unsupported config type %s", format)
	}
	def, err := d.parse(doc, false)
	if err != nil {
		return "", err
	}
	out, err := xmlconf.ToNative(def)
	if err != nil {
		return "", xmlError(err)
	}
	return out, nil
}
