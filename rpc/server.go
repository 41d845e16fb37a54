// Package rpc serves libvirt's remote protocol on unix sockets for the LXC
// driver: framing, the XDR payloads (package xdr), program and procedure
// dispatch, errors as libvirt numbers them, keepalive, events, streams and
// descriptor passing.
//
// It knows the wire and the driver's public API, and nothing of
// containers, cgroups or networks: domain XML passes through it as opaque
// text. Errors become libvirt error codes in exactly one place
// (toRemoteError in errors.go).
package rpc

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nsvirt/nsvirt/driver"
)

// Options tune a Server. Zero values select libvirt's defaults.
type Options struct {
	// KeepaliveInterval is how long a connection that asked for keepalive
	// may stay silent before the server pings it (libvirtd: 5 s).
	KeepaliveInterval time.Duration
	// KeepaliveCount is how many unanswered pings drop the client
	// (libvirtd: 5).
	KeepaliveCount int
	// MaxCalls bounds the calls one connection may have in flight.
	MaxCalls int
	// EventQueue bounds the event messages queued for one connection; a
	// client that lets it fill is disconnected.
	EventQueue int
	// WriteTimeout is how long a write to a client may make no progress
	// before the client is dropped.
	WriteTimeout time.Duration
	// Log receives the server's log. Defaults to discarding.
	Log *slog.Logger
}

// Server serves the libvirt remote protocol for one driver.
type Server struct {
	drv      *driver.Driver
	opts     Options
	log      *slog.Logger
	handlers table
	nextID   atomic.Uint64
	nextCB   atomic.Int32
	unsub    func()

	mu        sync.Mutex
	conns     map[*conn]struct{}
	listeners map[net.Listener]struct{}
	closed    bool
	wg        sync.WaitGroup
}

// New returns a server for drv.
func New(drv *driver.Driver, opts Options) *Server {
	if opts.KeepaliveInterval <= 0 {
		opts.KeepaliveInterval = 5 * time.Second
	}
	if opts.KeepaliveCount <= 0 {
		opts.KeepaliveCount = 5
	}
	if opts.MaxCalls <= 0 {
		opts.MaxCalls = 64
	}
	if opts.EventQueue <= 0 {
		opts.EventQueue = 4096
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		drv:       drv,
		opts:      opts,
		log:       opts.Log,
		conns:     map[*conn]struct{}{},
		listeners: map[net.Listener]struct{}{},
	}
	s.handlers = s.buildTable()
	s.unsub = drv.Subscribe(s.fanOut)
	return s
}

// Serve accepts connections on ln until ln is closed or the server shuts
// down. Connections accepted on a read-only listener are read-only
// whatever they ask for.
func (s *Server) Serve(ln net.Listener, readOnly bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Warn("accept failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.ServeConn(nc, readOnly)
	}
}

// ServeConn serves one already accepted connection in the background.
func (s *Server) ServeConn(nc net.Conn, readOnly bool) {
	c := newConn(s, nc, readOnly)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close stops the listeners, tells clients that registered a close
// callback that the connection is going away, closes every connection and
// waits for their calls to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.unsub()
	for _, c := range conns {
		c.notifyClosing()
	}
	for _, c := range conns {
		c.close()
	}
	s.wg.Wait()
	return nil
}

// Conns returns the number of open connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// each calls fn for every open connection.
func (s *Server) each(fn func(*conn)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		fn(c)
	}
}
