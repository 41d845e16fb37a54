package driver

import "sync"

// Lifecycle event types and details, with libvirt's numbers
// (virDomainEventType and the per-type detail enums).
const (
	EventDefined     = 0
	EventUndefined   = 1
	EventStarted     = 2
	EventSuspended   = 3
	EventResumed     = 4
	EventStopped     = 5
	EventShutdown    = 6
	EventPMSuspended = 7
	EventCrashed     = 8

	DetailDefinedAdded     = 0
	DetailDefinedUpdated   = 1
	DetailUndefinedRemoved = 0
	DetailStartedBooted    = 0
	DetailSuspendedPaused  = 0
	DetailResumedUnpaused  = 0
	DetailStoppedShutdown  = 0
	DetailStoppedDestroyed = 1
	DetailStoppedCrashed   = 2
	DetailStoppedFailed    = 5
)

// Network lifecycle event types (virNetworkEventLifecycleType).
const (
	NetEventDefined   = 0
	NetEventUndefined = 1
	NetEventStarted   = 2
	NetEventStopped   = 3
)

// Metadata types (virDomainMetadataType).
const (
	MetadataDescription = 0
	MetadataTitle       = 1
	MetadataElement     = 2
)

// Event is a notification the driver publishes to subscribers.
type Event interface{ isEvent() }

// LifecycleEvent reports a domain state transition.
type LifecycleEvent struct {
	Dom    DomainRef
	Event  int32
	Detail int32
}

// RebootEvent reports that a domain's container rebooted.
type RebootEvent struct{ Dom DomainRef }

// MetadataChangeEvent reports a change of title, description or a
// namespaced metadata element (NSURI).
type MetadataChangeEvent struct {
	Dom   DomainRef
	Type  int32
	NSURI string
}

// NetworkLifecycleEvent reports a network state transition.
type NetworkLifecycleEvent struct {
	Net    NetworkRef
	Event  int32
	Detail int32
}

func (LifecycleEvent) isEvent()        {}
func (RebootEvent) isEvent()           {}
func (MetadataChangeEvent) isEvent()   {}
func (NetworkLifecycleEvent) isEvent() {}

// eventBus delivers events synchronously to every subscriber. Events of one
// domain are emitted while that domain's lock is held, so subscribers see
// them in transition order; a subscriber must therefore never block.
type eventBus struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(Event)
}

// Subscribe registers fn for every event the driver emits from now on and
// returns a function that removes it. fn runs on the emitting goroutine and
// must not block or call back into the driver.
func (d *Driver) Subscribe(fn func(Event)) (cancel func()) {
	b := &d.events
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[int]func(Event){}
	}
	id := b.next
	b.next++
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}

func (b *eventBus) emit(ev Event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(ev)
	}
}
