package monitor

import (
	"bufio"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// defaultRing is the output kept per console while nobody is attached.
const defaultRing = 64 << 10

// console relays one container console: it reads the pty master all the
// time (so the container never blocks on an unread console), keeps the
// output of detached periods in a bounded ring, copies everything to an
// optional log file, and connects at most one client at a time.
type console struct {
	master *os.File

	mu     sync.Mutex
	client net.Conn
	ring   ring
	log    *os.File
	done   chan struct{} // closed when the master reports end of file
}

func newConsole(master *os.File, ringSize int) *console {
	if ringSize <= 0 {
		ringSize = defaultRing
	}
	return &console{master: master, ring: ring{max: ringSize}, done: make(chan struct{})}
}

func (c *console) openLog(path string, appendTo bool) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if !appendTo {
		flags |= os.O_TRUNC
	}
	if f, err := os.OpenFile(path, flags, 0o600); err == nil {
		c.log = f
	}
}

// pump copies the container's output to the attached client, or into the
// ring when there is none. A slow client slows the container's console
// output rather than losing it.
func (c *console) pump() {
	defer close(c.done)
	// A pty hands out at most a few KiB per read.
	buf := make([]byte, 8<<10)
	for {
		n, err := c.master.Read(buf)
		if n > 0 {
			c.output(buf[:n])
		}
		if err != nil {
			c.mu.Lock()
			if c.client != nil {
				c.client.Close()
				c.client = nil
			}
			c.mu.Unlock()
			return
		}
	}
}

func (c *console) output(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.log != nil {
		c.log.Write(p)
	}
	if c.client != nil {
		if _, err := c.client.Write(p); err == nil {
			return
		}
		c.client.Close()
		c.client = nil
	}
	c.ring.write(p)
}

// attach connects a client: refused while another is attached unless it
// forces a takeover. The output kept while nobody was attached is sent
// first.
func (c *console) attach(conn net.Conn, r *bufio.Reader, force bool) {
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		reply(conn, Status{Error: "the console has closed"})
		conn.Close()
		return
	default:
	}
	if c.client != nil && !force {
		c.mu.Unlock()
		reply(conn, Status{Error: "the console is in use by another client"})
		conn.Close()
		return
	}
	if c.client != nil {
		c.client.Close()
	}
	reply(conn, Status{})
	if pending := c.ring.take(); len(pending) > 0 {
		if _, err := conn.Write(pending); err != nil {
			c.mu.Unlock()
			conn.Close()
			return
		}
	}
	c.client = conn
	c.mu.Unlock()
	go c.input(conn, r)
}

// input copies a client's keystrokes to the container until the client
// goes away, then frees the console.
func (c *console) input(conn net.Conn, r *bufio.Reader) {
	_, _ = io.Copy(c.master, r)
	c.mu.Lock()
	if c.client == conn {
		c.client = nil
	}
	c.mu.Unlock()
	conn.Close()
}

// finish waits up to d for the remaining output to drain after init ended
// and disconnects the client.
func (c *console) finish(d time.Duration) {
	select {
	case <-c.done:
	case <-time.After(d):
	}
	c.mu.Lock()
	if c.client != nil {
		c.client.Close()
		c.client = nil
	}
	if c.log != nil {
		c.log.Close()
	}
	c.mu.Unlock()
}

// ring keeps the last max bytes written to it.
type ring struct {
	max int
	buf []byte
}

func (r *ring) write(p []byte) {
	if len(p) >= r.max {
		r.buf = append(r.buf[:0], p[len(p)-r.max:]...)
		return
	}
	if over := len(r.buf) + len(p) - r.max; over > 0 {
		r.buf = append(r.buf[:0], r.buf[over:]...)
	}
	r.buf = append(r.buf, p...)
}

func (r *ring) take() []byte {
	out := r.buf
	r.buf = nil
	return out
}
