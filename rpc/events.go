package rpc

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/remote"
	"github.com/nsvirt/nsvirt/rpc/xdr"
)

// Domain event IDs (virDomainEventID) nsvirt emits, and the number of IDs
// libvirt 9.0 defines: registration is accepted for all of them.
const (
	eventIDLifecycle      = 0
	eventIDReboot         = 1
	eventIDMetadataChange = 23
	eventIDLast           = 27 // VIR_DOMAIN_EVENT_ID_LAST in libvirt 9.0
	eventIDLegacyLast     = 15 // legacy REGISTER_ANY stops at DEVICE_REMOVED
	netEventIDLifecycle   = 0
	netEventIDLast        = 2 // VIR_NETWORK_EVENT_ID_LAST
	closeReasonEOF        = 1 // VIR_CONNECT_CLOSE_REASON_EOF
)

// eventReg is one event registration of a connection.
type eventReg struct {
	eventID int32
	network bool
	filter  *driver.UUID // only this domain or network, when set
}

// eventRegs holds a connection's registrations: modern callbacks by
// callback ID, and the legacy per-event-ID registrations.
type eventRegs struct {
	callbacks map[int32]eventReg
	legacy    map[int32]bool
}

func (r *eventRegs) add(cb int32, reg eventReg) {
	if r.callbacks == nil {
		r.callbacks = map[int32]eventReg{}
	}
	r.callbacks[cb] = reg
}

func uuidFilter(u libvirt.UUID) *driver.UUID {
	v := driver.UUID(u)
	return &v
}

// fanOut delivers a driver event to every connection registered for it.
// It runs on the emitting goroutine and never blocks: each connection has
// a bounded queue (see conn.sendEvent).
func (s *Server) fanOut(ev driver.Event) {
	s.each(func(c *conn) { c.deliver(ev) })
}

func (c *conn) deliver(ev driver.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for cb, reg := range c.evs.callbacks {
		if msg := callbackMessage(ev, cb, reg); msg != nil {
			c.sendEvent(msg)
		}
	}
	if msg := legacyMessage(ev, c.evs.legacy); msg != nil {
		c.sendEvent(msg)
	}
}

func eventPacket(proc remote.Procedure, v any) []byte {
	body, err := xdr.Marshal(v)
	if err != nil {
		return nil
	}
	return encodeMessage(header{Program: remote.RemoteProgram, Version: remote.ProtocolVersion,
		Procedure: int32(proc), Type: typeMessage, Serial: eventSerial, Status: statusOK}, body, 0)
}

func wireDomain(d driver.DomainRef) libvirt.Domain {
	return libvirt.Domain{Name: d.Name, UUID: libvirt.UUID(d.UUID), ID: int32(d.ID)}
}

func wireNetwork(n driver.NetworkRef) libvirt.Network {
	return libvirt.Network{Name: n.Name, UUID: libvirt.UUID(n.UUID)}
}

func matches(reg eventReg, network bool, id int32, u driver.UUID) bool {
	return reg.network == network && reg.eventID == id && (reg.filter == nil || *reg.filter == u)
}

// callbackMessage encodes ev for a modern (callback ID) registration, or
// returns nil when the registration does not want it.
func callbackMessage(ev driver.Event, cb int32, reg eventReg) []byte {
	switch e := ev.(type) {
	case driver.LifecycleEvent:
		if matches(reg, false, eventIDLifecycle, e.Dom.UUID) {
			return eventPacket(remote.ProcDomainEventCallbackLifecycle, &libvirt.DomainEventCallbackLifecycleMsg{
				CallbackID: cb,
				Msg:        libvirt.DomainEventLifecycleMsg{Dom: wireDomain(e.Dom), Event: e.Event, Detail: e.Detail},
			})
		}
	case driver.RebootEvent:
		if matches(reg, false, eventIDReboot, e.Dom.UUID) {
			return eventPacket(remote.ProcDomainEventCallbackReboot, &libvirt.DomainEventCallbackRebootMsg{
				CallbackID: cb, Msg: libvirt.DomainEventRebootMsg{Dom: wireDomain(e.Dom)},
			})
		}
	case driver.MetadataChangeEvent:
		if matches(reg, false, eventIDMetadataChange, e.Dom.UUID) {
			var ns libvirt.OptString
			if e.NSURI != "" {
				ns = libvirt.OptString{e.NSURI}
			}
			return eventPacket(remote.ProcDomainEventCallbackMetadataChange, &libvirt.DomainEventCallbackMetadataChangeMsg{
				CallbackID: cb, Dom: wireDomain(e.Dom), Type: e.Type, Nsuri: ns,
			})
		}
	case driver.NetworkLifecycleEvent:
		if matches(reg, true, netEventIDLifecycle, e.Net.UUID) {
			return eventPacket(remote.ProcNetworkEventLifecycle, &libvirt.NetworkEventLifecycleMsg{
				CallbackID: cb, Net: wireNetwork(e.Net), Event: e.Event, Detail: e.Detail,
			})
		}
	}
	return nil
}

// legacyMessage encodes ev for the legacy registrations (procedures
// 105 and 167), which carry no callback ID.
func legacyMessage(ev driver.Event, legacy map[int32]bool) []byte {
	switch e := ev.(type) {
	case driver.LifecycleEvent:
		if legacy[eventIDLifecycle] {
			return eventPacket(remote.ProcDomainEventLifecycle, &libvirt.DomainEventLifecycleMsg{
				Dom: wireDomain(e.Dom), Event: e.Event, Detail: e.Detail,
			})
		}
	case driver.RebootEvent:
		if legacy[eventIDReboot] {
			return eventPacket(remote.ProcDomainEventReboot, &libvirt.DomainEventRebootMsg{Dom: wireDomain(e.Dom)})
		}
	}
	return nil
}

// notifyClosing sends CONNECT_EVENT_CONNECTION_CLOSED to a client that
// registered a close callback.
func (c *conn) notifyClosing() {
	c.mu.Lock()
	want := c.closeCB
	c.mu.Unlock()
	if !want {
		return
	}
	c.send(eventPacket(remote.ProcConnectEventConnectionClosed, &libvirt.ConnectEventConnectionClosedMsg{Reason: closeReasonEOF}), nil)
}

func (s *Server) eventHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcConnectDomainEventCallbackRegisterAny}] = call(func(c *conn, a *libvirt.ConnectDomainEventCallbackRegisterAnyArgs) (*libvirt.ConnectDomainEventCallbackRegisterAnyRet, error) {
		if a.EventID < 0 || a.EventID >= eventIDLast {
			return nil, invalidArg("unsupported event ID %d", a.EventID)
		}
		reg := eventReg{eventID: a.EventID}
		if len(a.Dom) > 0 {
			reg.filter = uuidFilter(a.Dom[0].UUID)
		}
		return &libvirt.ConnectDomainEventCallbackRegisterAnyRet{CallbackID: s.register(c, reg)}, nil
	}).fast()
	t[procKey{r, remote.ProcConnectDomainEventCallbackDeregisterAny}] = call(func(c *conn, a *libvirt.ConnectDomainEventCallbackDeregisterAnyArgs) (*struct{}, error) {
		return &struct{}{}, c.deregister(a.CallbackID, false)
	}).fast()
	t[procKey{r, remote.ProcConnectNetworkEventRegisterAny}] = call(func(c *conn, a *libvirt.ConnectNetworkEventRegisterAnyArgs) (*libvirt.ConnectNetworkEventRegisterAnyRet, error) {
		if a.EventID < 0 || a.EventID >= netEventIDLast {
			return nil, invalidArg("unsupported network event ID %d", a.EventID)
		}
		reg := eventReg{eventID: a.EventID, network: true}
		if len(a.Net) > 0 {
			reg.filter = uuidFilter(a.Net[0].UUID)
		}
		return &libvirt.ConnectNetworkEventRegisterAnyRet{CallbackID: s.register(c, reg)}, nil
	}).fast()
	t[procKey{r, remote.ProcConnectNetworkEventDeregisterAny}] = call(func(c *conn, a *libvirt.ConnectNetworkEventDeregisterAnyArgs) (*struct{}, error) {
		return &struct{}{}, c.deregister(a.CallbackID, true)
	}).fast()
	t[procKey{r, remote.ProcConnectDomainEventRegister}] = call(func(c *conn, _ *struct{}) (*libvirt.ConnectDomainEventRegisterRet, error) {
		c.setLegacy(eventIDLifecycle, true)
		return &libvirt.ConnectDomainEventRegisterRet{CbRegistered: 1}, nil
	}).fast()
	t[procKey{r, remote.ProcConnectDomainEventDeregister}] = call(func(c *conn, _ *struct{}) (*libvirt.ConnectDomainEventDeregisterRet, error) {
		c.setLegacy(eventIDLifecycle, false)
		return &libvirt.ConnectDomainEventDeregisterRet{CbRegistered: 0}, nil
	}).fast()
	t[procKey{r, remote.ProcConnectDomainEventRegisterAny}] = call(func(c *conn, a *libvirt.ConnectDomainEventRegisterAnyArgs) (*struct{}, error) {
		if a.EventID < 0 || a.EventID > eventIDLegacyLast {
			return nil, invalidArg("unsupported event ID %d", a.EventID)
		}
		c.setLegacy(a.EventID, true)
		return &struct{}{}, nil
	}).fast()
	t[procKey{r, remote.ProcConnectDomainEventDeregisterAny}] = call(func(c *conn, a *libvirt.ConnectDomainEventDeregisterAnyArgs) (*struct{}, error) {
		c.setLegacy(a.EventID, false)
		return &struct{}{}, nil
	}).fast()
}

func (s *Server) register(c *conn, reg eventReg) int32 {
	id := s.nextCB.Add(1)
	c.mu.Lock()
	c.evs.add(id, reg)
	c.mu.Unlock()
	return id
}

func (c *conn) deregister(cb int32, network bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	reg, ok := c.evs.callbacks[cb]
	if !ok || reg.network != network {
		return invalidArg("callback %d not registered", cb)
	}
	delete(c.evs.callbacks, cb)
	return nil
}

func (c *conn) setLegacy(id int32, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.evs.legacy == nil {
		c.evs.legacy = map[int32]bool{}
	}
	c.evs.legacy[id] = on
}
