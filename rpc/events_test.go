package rpc

import (
	"sync/atomic"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/remote"
	"github.com/nsvirt/nsvirt/rpc/xdr"
)

func testDomain(name string, b byte) driver.DomainRef {
	return driver.DomainRef{Name: name, UUID: driver.UUID{b, 1, 2, 3}, ID: -1}
}

// nextEvent reads packets until an event MESSAGE arrives.
func (c *rawClient) nextEvent() *message {
	c.t.Helper()
	for {
		m, err := c.read()
		if err != nil {
			c.t.Fatalf("waiting for an event: %v", err)
		}
		if m.hdr.Type == typeMessage && m.hdr.Program == remote.RemoteProgram {
			return m
		}
	}
}

// TestEventFilterAndLegacy checks the per-domain filter of a modern
// registration and the legacy lifecycle registration, and the order of
// delivery.
func TestEventFilterAndLegacy(t *testing.T) {
	s, path := startServer(t)
	x, y := testDomain("x", 1), testDomain("y", 2)
	modern := dial(t, path)
	modern.open("lxc:///system")
	var reg libvirt.ConnectDomainEventCallbackRegisterAnyRet
	if err := modern.call(remote.ProcConnectDomainEventCallbackRegisterAny, &libvirt.ConnectDomainEventCallbackRegisterAnyArgs{
		EventID: eventIDLifecycle, Dom: libvirt.OptDomain{wireDomain(x)},
	}, &reg); err != nil {
		t.Fatal(err)
	}
	legacy := dial(t, path)
	legacy.open("lxc:///system")
	if err := legacy.call(remote.ProcConnectDomainEventRegister, &struct{}{}, &libvirt.ConnectDomainEventRegisterRet{}); err != nil {
		t.Fatal(err)
	}
	sent := []driver.LifecycleEvent{
		{Dom: x, Event: driver.EventDefined}, {Dom: y, Event: driver.EventDefined},
		{Dom: x, Event: driver.EventStarted}, {Dom: x, Event: driver.EventSuspended},
		{Dom: y, Event: driver.EventUndefined}, {Dom: x, Event: driver.EventStopped, Detail: driver.DetailStoppedDestroyed},
	}
	for _, ev := range sent {
		s.fanOut(ev)
	}
	for _, want := range sent {
		if want.Dom != x {
			continue
		}
		m := modern.nextEvent()
		var msg libvirt.DomainEventCallbackLifecycleMsg
		if err := xdr.Unmarshal(m.body, &msg); err != nil || remote.Procedure(m.hdr.Procedure) != remote.ProcDomainEventCallbackLifecycle {
			t.Fatalf("modern: proc %d: %v", m.hdr.Procedure, err)
		}
		if msg.CallbackID != reg.CallbackID || msg.Msg.Dom.Name != "x" || msg.Msg.Event != want.Event || msg.Msg.Detail != want.Detail {
			t.Fatalf("modern got %+v, want %+v", msg, want)
		}
	}
	for _, want := range sent {
		m := legacy.nextEvent()
		var msg libvirt.DomainEventLifecycleMsg
		if err := xdr.Unmarshal(m.body, &msg); err != nil || remote.Procedure(m.hdr.Procedure) != remote.ProcDomainEventLifecycle {
			t.Fatalf("legacy: proc %d: %v", m.hdr.Procedure, err)
		}
		if msg.Dom.Name != want.Dom.Name || msg.Event != want.Event {
			t.Fatalf("legacy got %+v, want %+v", msg, want)
		}
	}
	// Nothing more: y's events never reached the filtered registration.
	if err := modern.call(remote.ProcConnectGetType, &struct{}{}, &libvirt.ConnectGetTypeRet{}); err != nil {
		t.Fatal(err)
	}
}

// TestSlowEventReaderIsDropped checks that a client that stops reading
// never holds up the daemon or other clients: its queue fills and it is
// disconnected, while a client that reads gets every event in order.
func TestSlowEventReaderIsDropped(t *testing.T) {
	s, path := startServer(t, func(o *Options) { o.EventQueue = 64 })
	register := func(c *rawClient) {
		c.open("lxc:///system")
		if err := c.call(remote.ProcConnectDomainEventCallbackRegisterAny, &libvirt.ConnectDomainEventCallbackRegisterAnyArgs{EventID: eventIDLifecycle}, &libvirt.ConnectDomainEventCallbackRegisterAnyRet{}); err != nil {
			t.Fatal(err)
		}
	}
	slow, fast := dial(t, path), dial(t, path)
	register(slow)
	register(fast)
	const n = 20000
	var got atomic.Int64
	readerDone := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			m, err := fast.read()
			if err != nil {
				readerDone <- err
				return
			}
			var msg libvirt.DomainEventCallbackLifecycleMsg
			if err := xdr.Unmarshal(m.body, &msg); err != nil {
				readerDone <- err
				return
			}
			if int(msg.Msg.Detail) != i {
				t.Errorf("event %d arrived as number %d", i, msg.Msg.Detail)
			}
			got.Add(1)
		}
		readerDone <- nil
	}()
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for i := 0; i < n; i++ {
			s.fanOut(driver.LifecycleEvent{Dom: testDomain("x", 1), Event: driver.EventDefined, Detail: int32(i)})
			for int64(i)-got.Load() > 32 { // pace to the reader, not to the slow client
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	select {
	case <-produced:
	case <-time.After(60 * time.Second):
		t.Fatal("emitting events blocked")
	}
	if err := <-readerDone; err != nil {
		t.Fatalf("reading client: %v after %d events", err, got.Load())
	}
	slow.expectClosed()
}
