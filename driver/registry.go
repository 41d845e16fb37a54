package driver

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/nsvirt/nsvirt/xmlconf"
)

// Domain states (virDomainState) and the reasons nsvirt reports.
const (
	StateNoState  = 0
	StateRunning  = 1
	StatePaused   = 3
	StateShutdown = 4
	StateShutoff  = 5
	StateCrashed  = 6

	ReasonRunningUnknown = 0
	ReasonRunningBooted  = 1
	ReasonRunningUnpause = 5 // VIR_DOMAIN_RUNNING_UNPAUSED

	ReasonPausedUnknown = 0
	ReasonPausedUser    = 1

	ReasonShutoffUnknown   = 0
	ReasonShutoffShutdown  = 1
	ReasonShutoffDestroyed = 2
	ReasonShutoffCrashed   = 3
	ReasonShutoffFailed    = 6
	ReasonShutoffDaemon    = 8

	ReasonShutdownUser = 1 // VIR_DOMAIN_SHUTDOWN_USER
)

// jobTimeout is how long an operation waits for another one on the same
// domain, as libvirt's job lock does, before giving up.
const jobTimeout = 30 * time.Second

// domain is the driver's record of one domain. Its job lock serialises
// operations on the domain; mu guards the fields for quick readers such as
// listings, which never wait for a job.
type domain struct {
	job chan struct{}

	mu         sync.Mutex
	name       string
	uuid       UUID
	persistent *xmlconf.Domain // the definition on disk; nil when transient
	live       *xmlconf.Domain // the running definition; nil when inactive
	state      int
	reason     int
	id         int
	autostart  bool
	updated    bool     // persistent definition changed while running
	rt         *runtime // the running container; nil when inactive
}

func newDomain(name string, uuid UUID) *domain {
	return &domain{job: make(chan struct{}, 1), name: name, uuid: uuid, id: -1, state: StateShutoff}
}

// lock takes the domain's job lock, waiting at most jobTimeout.
func (dom *domain) lock(ctx context.Context) error {
	t := time.NewTimer(jobTimeout)
	defer t.Stop()
	select {
	case dom.job <- struct{}{}:
		return nil
	case <-t.C:
		return errorf(KindOperationTimeout, "cannot acquire state change lock")
	case <-ctx.Done():
		return errorf(KindOperationTimeout, "cannot acquire state change lock: %v", ctx.Err())
	}
}

func (dom *domain) unlock() { <-dom.job }

// ref returns the domain's wire identity.
func (dom *domain) ref() DomainRef {
	dom.mu.Lock()
	defer dom.mu.Unlock()
	return dom.refLocked()
}

func (dom *domain) refLocked() DomainRef {
	return DomainRef{Name: dom.name, UUID: dom.uuid, ID: dom.id}
}

func (dom *domain) active() bool { return dom.live != nil }

// def returns the definition queries should show: the live one while
// running, the persistent one otherwise.
func (dom *domain) def() *xmlconf.Domain {
	if dom.live != nil {
		return dom.live
	}
	return dom.persistent
}

// registry indexes the known domains by name and UUID.
type registry struct {
	mu     sync.RWMutex
	byName map[string]*domain
	byUUID map[UUID]*domain
}

func (r *registry) init() {
	r.byName = map[string]*domain{}
	r.byUUID = map[UUID]*domain{}
}

func (r *registry) add(dom *domain) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byName[dom.name] = dom
	r.byUUID[dom.uuid] = dom
}

func (r *registry) remove(dom *domain) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byName[dom.name] == dom {
		delete(r.byName, dom.name)
	}
	if r.byUUID[dom.uuid] == dom {
		delete(r.byUUID, dom.uuid)
	}
}

func (r *registry) byNameGet(name string) *domain {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byName[name]
}

func (r *registry) byUUIDGet(u UUID) *domain {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byUUID[u]
}

// all returns every domain, sorted by name for stable listings.
func (r *registry) all() []*domain {
	r.mu.RLock()
	out := make([]*domain, 0, len(r.byName))
	for _, dom := range r.byName {
		out = append(out, dom)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// find returns the domain a client refers to. Like libvirt, it trusts the
// UUID of a domain reference and names the domain in the error.
func (d *Driver) find(ref DomainRef) (*domain, error) {
	if dom := d.doms.byUUIDGet(ref.UUID); dom != nil {
		return dom, nil
	}
	return nil, errorf(KindNoDomain, "no domain with matching uuid '%s' (%s)", ref.UUID, ref.Name)
}

// withJob runs fn with the domain's job lock held.
func (d *Driver) withJob(ref DomainRef, fn func(dom *domain) error) error {
	dom, err := d.find(ref)
	if err != nil {
		return err
	}
	if err := dom.lock(context.Background()); err != nil {
		return err
	}
	defer dom.unlock()
	if d.doms.byUUIDGet(dom.uuid) != dom {
		// Undefined while we waited.
		return errorf(KindNoDomain, "no domain with matching uuid '%s' (%s)", ref.UUID, ref.Name)
	}
	return fn(dom)
}
