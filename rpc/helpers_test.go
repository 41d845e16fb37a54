package rpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/remote"
	"github.com/nsvirt/nsvirt/rpc/xdr"
)

func newTestDriver(t testing.TB) *driver.Driver {
	t.Helper()
	dir := t.TempDir()
	d, err := driver.New(driver.Config{
		ConfigDir: filepath.Join(dir, "config"),
		StateDir:  filepath.Join(dir, "state"),
		Emulator:  "/usr/libexec/nsvirtd",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func newTestServer(t testing.TB, opts ...func(*Options)) *Server {
	t.Helper()
	var o Options
	for _, f := range opts {
		f(&o)
	}
	s := New(newTestDriver(t), o)
	t.Cleanup(func() { s.Close() })
	return s
}

// startServer serves a test server on a fresh read-write socket and a
// read-only one (path+"-ro").
func startServer(t testing.TB, opts ...func(*Options)) (*Server, string) {
	t.Helper()
	s := newTestServer(t, opts...)
	path := filepath.Join(t.TempDir(), "sock")
	for _, ro := range []bool{false, true} {
		p := path
		if ro {
			p += "-ro"
		}
		ln, err := net.Listen("unix", p)
		if err != nil {
			t.Fatal(err)
		}
		go s.Serve(ln, ro)
	}
	return s, path
}

// rawClient speaks the wire protocol directly, for tests that need
// control over every byte.
type rawClient struct {
	t      testing.TB
	nc     net.Conn
	serial uint32
}

func dial(t testing.TB, path string) *rawClient {
	t.Helper()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc}
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send writes one packet of type typ carrying args.
func (c *rawClient) send(prog uint32, proc remote.Procedure, typ uint32, args any) uint32 {
	c.t.Helper()
	body, err := xdr.Marshal(args)
	if err != nil {
		c.t.Fatal(err)
	}
	c.serial++
	c.write(encodeMessage(header{Program: prog, Version: 1, Procedure: int32(proc), Type: typ, Serial: c.serial}, body, 0))
	return c.serial
}

// read returns the next packet, failing the test after a timeout.
func (c *rawClient) read() (*message, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	return readMessage(c.nc, func(int) ([]int, error) { return nil, errors.New("unexpected descriptors") })
}

// call sends a REMOTE call and decodes its reply into ret, skipping any
// event or keepalive messages; a reply with status ERROR is returned as a
// *remoteError.
func (c *rawClient) call(proc remote.Procedure, args, ret any) error {
	c.t.Helper()
	serial := c.send(remote.RemoteProgram, proc, typeCall, args)
	for {
		m, err := c.read()
		if err != nil {
			c.t.Fatalf("read reply to %d: %v", proc, err)
		}
		if m.hdr.Type != typeReply || m.hdr.Serial != serial {
			continue
		}
		return decodeReply(m, ret)
	}
}

func decodeReply(m *message, ret any) error {
	if m.hdr.Status == statusError {
		var e remoteError
		if err := xdr.Unmarshal(m.body, &e); err != nil {
			return err
		}
		return &e
	}
	if ret == nil {
		ret = &struct{}{}
	}
	return xdr.Unmarshal(m.body, ret)
}

func (e *remoteError) Error() string {
	msg := ""
	if len(e.Message) > 0 {
		msg = e.Message[0]
	}
	return fmt.Sprintf("code %d: %s", e.Code, msg)
}

// open performs the client bring-up: AUTH_LIST then CONNECT_OPEN.
func (c *rawClient) open(uri string) {
	c.t.Helper()
	var auth libvirt.AuthListRet
	if err := c.call(remote.ProcAuthList, &struct{}{}, &auth); err != nil {
		c.t.Fatal(err)
	}
	if err := c.call(remote.ProcConnectOpen, &libvirt.ConnectOpenArgs{Name: libvirt.OptString{uri}}, nil); err != nil {
		c.t.Fatal(err)
	}
}

// expectClosed waits for the server to close the connection.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c.nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatal("server did not close the connection")
	}
}

func wireCode(t testing.TB, err error) int32 {
	t.Helper()
	var e *remoteError
	if !errors.As(err, &e) {
		t.Fatalf("want a libvirt error, got %v", err)
	}
	return e.Code
}

func lengthWord(n uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, n)
}

// resources counts what a leak would leave: goroutines and open
// descriptors of this process.
func resources(t testing.TB) (goroutines, fds int) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return runtime.NumGoroutine(), len(ents)
}

// waitNoConns waits until the server holds no connection, and fails the
// test when it still holds some after 10 s.
func waitNoConns(t testing.TB, s *Server) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.Conns() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open", s.Conns())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSettled waits until the goroutine and descriptor counts are back at
// (or below) the baseline, and fails the test when they do not get there.
func waitSettled(t testing.TB, baseG, baseFD int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, fd := resources(t)
		if g <= baseG && fd <= baseFD {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("leak: %d goroutines (baseline %d), %d descriptors (baseline %d)\n%s", g, baseG, fd, baseFD, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
