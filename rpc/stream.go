package rpc

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/xdr"
)

// A stream is opened by a call (the console) and then carries data both
// ways as STREAM packets with the call's program, procedure and serial:
// status CONTINUE holds bytes, OK with no payload ends the stream (and a
// client's OK is confirmed with an empty OK), ERROR aborts it (a server's
// ERROR carries a remote_error). The server reports end of file as a
// CONTINUE with no data.

// stream is one open stream of a connection.
type stream struct {
	// deliver handles one packet the client sent on the stream.
	deliver func(m *message)
	// abort ends the stream when the connection goes away.
	abort func()
}

// streamMessage routes a client's STREAM packet to its stream. Packets for
// streams that do not exist (any more) are dropped, as libvirtd drops them.
func (c *conn) streamMessage(m *message) {
	closeFDs(m.fds)
	c.mu.Lock()
	st := c.streams[m.hdr.Serial]
	c.mu.Unlock()
	if st != nil {
		st.deliver(m)
	}
}

// closeStreams aborts every stream of a closing connection.
func (c *conn) closeStreams() {
	c.mu.Lock()
	streams := c.streams
	c.streams = map[uint32]*stream{}
	c.mu.Unlock()
	for _, st := range streams {
		st.abort()
	}
}

// consoleStream relays a console over a stream.
type consoleStream struct {
	c     *conn
	hdr   header // the opening call's header
	con   driver.Console
	entry *stream
	once  sync.Once
}

// openConsoleStream registers a stream for the call hdr that relays con,
// and returns the function that starts sending the console's output; the
// caller runs it once the call's reply is on the wire.
func (c *conn) openConsoleStream(hdr header, con driver.Console) (start func()) {
	s := &consoleStream{c: c, hdr: hdr, con: con}
	s.entry = &stream{deliver: s.deliver, abort: s.close}
	c.mu.Lock()
	if old := c.streams[hdr.Serial]; old != nil {
		defer old.abort() // a client reusing a serial ends the old stream
	}
	c.streams[hdr.Serial] = s.entry
	c.mu.Unlock()
	return func() { go s.pump() }
}

// packet encodes a STREAM packet of this stream.
func (s *consoleStream) packet(status uint32, body []byte) []byte {
	h := s.hdr
	h.Type, h.Status = typeStream, status
	return encodeMessage(h, body, 0)
}

// pump sends the console's output in packets of at most streamChunk
// bytes; end of file is an empty OK, a failure an ERROR.
func (s *consoleStream) pump() {
	buf := make([]byte, streamChunk)
	for {
		n, err := s.con.Read(buf)
		if n > 0 && !s.c.send(s.packet(statusContinue, buf[:n]), nil) {
			s.close()
			return
		}
		if err == nil {
			continue
		}
		s.c.log.Debug("console stream output ended", "serial", s.hdr.Serial, "err", err)
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) {
			// The console ended (the container stopped, another client
			// forced it over, or the client finished). libvirtd reports
			// end of file as a CONTINUE packet with no data (an OK is
			// only the confirmation of the client's finish). The stream
			// stays registered to confirm the client's finish.
			s.c.send(s.packet(statusContinue, nil), nil)
			return
		}
		body, _ := xdr.Marshal(toRemoteError(rpcErrorf(libvirt.ErrOperationFailed, "console: %v", err)))
		s.c.send(s.packet(statusError, body), nil)
		s.remove()
		return
	}
}

// deliver handles the client's packets: bytes for the console, its finish
// (confirmed with an empty OK) or its abort.
func (s *consoleStream) deliver(m *message) {
	switch m.hdr.Status {
	case statusContinue:
		if _, err := s.con.Write(m.body); err != nil {
			s.c.log.Debug("console input failed", "err", err)
		}
	case statusOK:
		s.remove()
		s.c.send(s.packet(statusOK, nil), nil)
	default:
		s.remove()
	}
}

// remove unregisters the stream and closes the console.
func (s *consoleStream) remove() {
	s.c.mu.Lock()
	if s.c.streams[s.hdr.Serial] == s.entry {
		delete(s.c.streams, s.hdr.Serial)
	}
	s.c.mu.Unlock()
	s.close()
}

func (s *consoleStream) close() { s.once.Do(func() { s.con.Close() }) }
