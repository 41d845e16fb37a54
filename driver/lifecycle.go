package driver

import (
	"context"
	"os"
)

// Flags of CreateWithFlags and CreateXML (virDomainCreateFlags).
const (
	StartPaused      = 1
	StartAutodestroy = 2
	StartBypassCache = 4
	StartForceBoot   = 8
	StartValidate    = 16
)

// Create starts a defined domain. With StartAutodestroy the domain is
// destroyed when connection owner closes. files are passed to init as
// descriptors 3, 4, ... and are owned by the call.
func (d *Driver) Create(ref DomainRef, flags uint32, files []*os.File, owner uint64) (DomainRef, error) {
	defer closeAll(files)
	if flags&^(StartAutodestroy|StartPaused) != 0 {
		return DomainRef{}, unsupportedFlags(flags, "virDomainCreateWithFlags")
	}
	var out DomainRef
	err := d.withJob(ref, func(dom *domain) error {
		dom.mu.Lock()
		running, def := dom.rt != nil, dom.persistent
		dom.mu.Unlock()
		if running {
			return errorf(KindOperationInvalid, "domain is already running")
		}
		if err := d.start(dom, def, startOptions{owner: autodestroyOwner(flags, owner), files: files}); err != nil {
			return err
		}
		out = dom.ref()
		return d.startPaused(dom, flags)
	})
	return out, err
}

func autodestroyOwner(flags uint32, owner uint64) uint64 {
	if flags&StartAutodestroy != 0 {
		return owner
	}
	return 0
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// CreateXML starts a transient domain from XML: it disappears when it
// stops. XML naming an inactive persistent domain starts that domain with
// this definition as its live one.
func (d *Driver) CreateXML(doc string, flags uint32, files []*os.File, owner uint64) (DomainRef, error) {
	defer closeAll(files)
	if flags&^(StartAutodestroy|StartValidate|StartPaused) != 0 {
		return DomainRef{}, unsupportedFlags(flags, "virDomainCreateXML")
	}
	def, err := d.parse(doc, flags&StartValidate != 0)
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
	dom.mu.Lock()
	running := dom.rt != nil
	dom.mu.Unlock()
	if running {
		return DomainRef{}, errorf(KindOperationInvalid, "domain '%s' is already active", def.Def.Name)
	}
	if err := d.start(dom, def, startOptions{owner: autodestroyOwner(flags, owner), files: files}); err != nil {
		if created {
			d.doms.remove(dom)
		}
		return DomainRef{}, err
	}
	return dom.ref(), d.startPaused(dom, flags)
}

// startPaused suspends a just-started domain when the flags ask for
// START_PAUSED. Init has already begun, so "paused" means frozen right
// after exec rather than before it.
func (d *Driver) startPaused(dom *domain, flags uint32) error {
	if flags&StartPaused == 0 {
		return nil
	}
	return d.suspend(dom)
}
