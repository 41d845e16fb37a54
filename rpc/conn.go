package rpc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsvirt/nsvirt/rpc/remote"
)

// conn is one client connection. A single reader decodes packets; cheap
// calls run on the reader itself, the others on a goroutine each, so a slow
// call never holds up the connection. Packets are written whole under
// wmu, directly by whoever produced them; events and pings go through a
// bounded queue and their own writer so that producing them never blocks.
type conn struct {
	srv      *Server
	nc       net.Conn
	uc       *net.UnixConn // nil when the transport cannot pass descriptors
	id       uint64
	roSocket bool
	log      *slog.Logger

	wmu     sync.Mutex  // serialises writes to the socket
	events  chan []byte // event messages and pings; a full queue drops the client
	done    chan struct{}
	once    sync.Once
	calls   chan struct{} // bounds concurrent calls
	handler sync.WaitGroup

	lastRx  atomic.Int64 // unix nanoseconds of the last packet received
	kaOnce  sync.Once
	pending []int // descriptors received and not yet claimed (reader only)

	mu       sync.Mutex
	opened   bool
	readOnly bool
	uri      string
	closeCB  bool
	evs      eventRegs
	streams  map[uint32]*stream
}

func newConn(s *Server, nc net.Conn, roSocket bool) *conn {
	c := &conn{
		srv:      s,
		nc:       nc,
		id:       s.nextID.Add(1),
		roSocket: roSocket,
		events:   make(chan []byte, s.opts.EventQueue),
		done:     make(chan struct{}),
		calls:    make(chan struct{}, s.opts.MaxCalls),
		streams:  map[uint32]*stream{},
	}
	c.uc, _ = nc.(*net.UnixConn)
	c.log = s.log.With("conn", c.id)
	c.lastRx.Store(time.Now().UnixNano())
	return c
}

// serve runs the connection until the peer goes away or the server stops.
func (c *conn) serve() {
	defer c.shutdown()
	go c.eventLoop()
	r := bufio.NewReaderSize(c.reader(), 64*1024)
	for {
		m, err := readMessage(r, func(n int) ([]int, error) { return c.takeFDs(r, n) })
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.log.Debug("dropping client", "err", err)
			}
			return
		}
		c.lastRx.Store(time.Now().UnixNano())
		c.handle(m)
	}
}

func (c *conn) handle(m *message) {
	switch {
	case m.hdr.Program == remote.KeepaliveProgram:
		c.keepaliveMessage(m)
	case m.hdr.Type == typeStream:
		c.streamMessage(m)
	case m.hdr.Type == typeCall || m.hdr.Type == typeCallWithFDs:
		if h, ok := c.srv.handlers[procKey{m.hdr.Program, remote.Procedure(m.hdr.Procedure)}]; !ok || h.inline {
			c.dispatch(m)
			return
		}
		select {
		case c.calls <- struct{}{}:
		case <-c.done:
			closeFDs(m.fds)
			return
		}
		c.handler.Add(1)
		go func() {
			defer func() { <-c.calls; c.handler.Done() }()
			c.dispatch(m)
		}()
	default:
		// libvirtd drops replies and messages sent by a client.
		closeFDs(m.fds)
	}
}

// send writes a packet, then the descriptors it carries (each with its own
// sendmsg, as libvirt's virNetSocketSendFD does), and closes them. It
// reports false when the connection is closing or the write failed.
func (c *conn) send(data []byte, fds []int) bool {
	defer closeFDs(fds)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.done:
		return false
	default:
	}
	if err := c.write(data, fds); err != nil {
		c.log.Debug("write failed", "err", err)
		c.close()
		return false
	}
	return true
}

func (c *conn) write(data []byte, fds []int) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.opts.WriteTimeout))
	if _, err := c.nc.Write(data); err != nil {
		return err
	}
	if len(fds) == 0 {
		return nil
	}
	if c.uc == nil {
		return errors.New("transport cannot pass file descriptors")
	}
	for _, fd := range fds {
		if _, _, err := c.uc.WriteMsgUnix([]byte{0}, unix.UnixRights(fd), nil); err != nil {
			return fmt.Errorf("send descriptor: %w", err)
		}
	}
	return nil
}

// sendEvent queues an event message (or ping) without blocking. A client
// that stops reading fills its queue and is disconnected rather than
// stalling the daemon.
func (c *conn) sendEvent(data []byte) {
	select {
	case c.events <- data:
	case <-c.done:
	default:
		c.log.Warn("event queue full; disconnecting client", "queued", cap(c.events))
		c.close()
	}
}

// eventLoop writes queued events in order.
func (c *conn) eventLoop() {
	for {
		select {
		case ev := <-c.events:
			if !c.send(ev, nil) {
				return
			}
		case <-c.done:
			return
		}
	}
}

// close starts the connection's shutdown; it is safe to call many times
// and from any goroutine.
func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

// shutdown runs when the reader stops: it closes the socket, waits for
// the calls in flight and releases what the connection held.
func (c *conn) shutdown() {
	c.close()
	c.handler.Wait()
	c.closeStreams()
	closeFDs(c.pending)
	c.pending = nil
	c.srv.forget(c)
	c.srv.drv.CloseSession(c.id)
}

// reader returns the connection's byte source. On a unix socket it uses
// recvmsg so that descriptors passed with CALL_WITH_FDS are kept.
func (c *conn) reader() io.Reader {
	if c.uc == nil {
		return c.nc
	}
	return fdReader{c}
}

type fdReader struct{ c *conn }

// maxPendingFDs bounds descriptors a client may send ahead of the packets
// that claim them.
const maxPendingFDs = 2 * maxFDs

func (r fdReader) Read(p []byte) (int, error) {
	oob := make([]byte, unix.CmsgSpace(4*maxFDs))
	n, oobn, _, _, err := r.c.uc.ReadMsgUnix(p, oob)
	n = max(n, 0)
	if oobn > 0 {
		msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
		if perr == nil {
			for _, m := range msgs {
				fds, _ := unix.ParseUnixRights(&m)
				r.c.pending = append(r.c.pending, fds...)
			}
		}
		if len(r.c.pending) > maxPendingFDs {
			return n, errors.New("client sent too many file descriptors")
		}
	}
	return n, err
}

// takeFDs claims the n descriptors that follow a *_WITH_FDS packet: each
// arrives with one dummy byte.
func (c *conn) takeFDs(r *bufio.Reader, n int) ([]int, error) {
	if n == 0 {
		return nil, nil
	}
	if c.uc == nil {
		return nil, errors.New("transport cannot pass file descriptors")
	}
	if _, err := r.Discard(n); err != nil {
		return nil, fmt.Errorf("read descriptor bytes: %w", err)
	}
	if len(c.pending) < n {
		return nil, fmt.Errorf("expected %d file descriptors, received %d", n, len(c.pending))
	}
	fds := append([]int(nil), c.pending[:n]...)
	c.pending = c.pending[n:]
	return fds, nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
