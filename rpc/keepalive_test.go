package rpc

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/rpc/remote"
)

func withKeepalive(interval time.Duration, count int) func(*Options) {
	return func(o *Options) { o.KeepaliveInterval, o.KeepaliveCount = interval, count }
}

func askKeepalive(t *testing.T, c *rawClient) {
	t.Helper()
	var ret libvirt.ConnectSupportsFeatureRet
	if err := c.call(remote.ProcConnectSupportsFeature, &libvirt.ConnectSupportsFeatureArgs{Feature: featureProgramKeepalive}, &ret); err != nil || ret.Supported != 1 {
		t.Fatalf("keepalive probe: %v %+v", err, ret)
	}
}

// TestKeepaliveAnsweringClientStays keeps an idle client that answers
// every ping connected for more than 30 seconds.
func TestKeepaliveAnsweringClientStays(t *testing.T) {
	t.Parallel()
	_, path := startServer(t, withKeepalive(2*time.Second, 3))
	c := dial(t, path)
	askKeepalive(t, c)
	c.open("lxc:///system")

	pings := 0
	deadline := time.Now().Add(31 * time.Second)
	for time.Now().Before(deadline) {
		_ = c.nc.SetReadDeadline(deadline)
		m, err := readMessage(c.nc, nil)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			break
		}
		if err != nil {
			t.Fatalf("connection lost after %d pings: %v", pings, err)
		}
		if m.hdr.Program == remote.KeepaliveProgram && m.hdr.Procedure == int32(remote.KeepaliveProcPing) {
			pings++
			c.write(keepalivePacket(remote.KeepaliveProcPong))
		}
	}
	if pings < 5 {
		t.Fatalf("only %d pings in 31 s with a 2 s interval", pings)
	}
	var info libvirt.NodeGetInfoRet
	if err := c.call(remote.ProcNodeGetInfo, &struct{}{}, &info); err != nil {
		t.Fatalf("client dropped although it answered %d pings: %v", pings, err)
	}
}

// TestKeepaliveSilentClientDropped drops a client that asked for
// keepalive and then stopped answering.
func TestKeepaliveSilentClientDropped(t *testing.T) {
	t.Parallel()
	s, path := startServer(t, withKeepalive(200*time.Millisecond, 3))
	c := dial(t, path)
	askKeepalive(t, c)
	start := time.Now()
	pings := 0
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		m, err := readMessage(c.nc, nil)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("want the server to close the connection, got %v", err)
		}
		if m.hdr.Program == remote.KeepaliveProgram {
			pings++
		}
	}
	if pings != 3 {
		t.Errorf("got %d pings before the drop, want 3", pings)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("drop took %v", d)
	}
	waitNoConns(t, s)
}

// TestClientPingGetsPong answers a client's own PING.
func TestClientPingGetsPong(t *testing.T) {
	_, path := startServer(t)
	c := dial(t, path)
	c.write(keepalivePacket(remote.KeepaliveProcPing))
	m, err := c.read()
	if err != nil {
		t.Fatal(err)
	}
	if m.hdr.Program != remote.KeepaliveProgram || m.hdr.Procedure != int32(remote.KeepaliveProcPong) || m.hdr.Type != typeMessage {
		t.Fatalf("want PONG, got %+v", m.hdr)
	}
}
