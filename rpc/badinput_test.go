package rpc

import (
	"math/rand"
	"net"
	"strings"
	"sync"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/rpc/remote"
)

// stillServes checks that a fresh client can open a connection and get an
// answer after whatever a test did to the server.
func stillServes(t *testing.T, path string) {
	t.Helper()
	c := dial(t, path)
	c.open("lxc:///system")
	var ret libvirt.NodeGetInfoRet
	if err := c.call(remote.ProcNodeGetInfo, &struct{}{}, &ret); err != nil {
		t.Fatalf("server no longer answers: %v", err)
	}
	if ret.Cpus < 1 {
		t.Fatalf("NodeGetInfo reports %d CPUs", ret.Cpus)
	}
	c.nc.Close()
}

// TestBadInput sends each kind of hostile input on its own connection and
// checks that it gets an error reply or a closed connection, that the
// server still answers afterwards, and that nothing leaked.
func TestBadInput(t *testing.T) {
	_, path := startServer(t)
	stillServes(t, path)
	baseG, baseFD := resources(t)

	tests := []struct {
		name string
		run  func(t *testing.T, c *rawClient)
	}{
		{"random bytes", func(t *testing.T, c *rawClient) {
			junk := make([]byte, 4096)
			rand.New(rand.NewSource(7)).Read(junk)
			c.write(junk)
			c.expectClosed()
		}},
		{"truncated frame", func(t *testing.T, c *rawClient) {
			pkt := encodeMessage(header{Program: remote.RemoteProgram, Version: 1, Procedure: 66}, make([]byte, 64), 0)
			c.write(pkt[:40])
			c.nc.(*net.UnixConn).CloseWrite()
			c.expectClosed()
		}},
		{"length 0", func(t *testing.T, c *rawClient) { c.write(lengthWord(0)); c.expectClosed() }},
		{"length 3", func(t *testing.T, c *rawClient) { c.write(lengthWord(3)); c.expectClosed() }},
		{"length 64 MiB", func(t *testing.T, c *rawClient) {
			c.write(append(lengthWord(64<<20), make([]byte, 24)...))
			c.expectClosed()
		}},
		{"wrong program", func(t *testing.T, c *rawClient) {
			serial := c.send(0x12345678, 1, typeCall, &struct{}{})
			expectRPCError(t, c, serial, "Cannot find program")
		}},
		{"wrong version", func(t *testing.T, c *rawClient) {
			c.serial++
			c.write(encodeMessage(header{Program: remote.RemoteProgram, Version: 9, Procedure: 66, Serial: c.serial}, nil, 0))
			expectRPCError(t, c, c.serial, "Cannot find program")
		}},
		{"unknown procedure", func(t *testing.T, c *rawClient) {
			c.open("lxc:///system")
			err := c.call(99999, &struct{}{}, nil)
			if code := wireCode(t, err); code != int32(libvirt.ErrRPC) || !strings.Contains(err.Error(), "unknown procedure: 99999") {
				t.Fatalf("got %v", err)
			}
		}},
		{"call before CONNECT_OPEN", func(t *testing.T, c *rawClient) {
			err := c.call(remote.ProcNodeGetInfo, &struct{}{}, nil)
			if !strings.Contains(err.Error(), "connection not open") {
				t.Fatalf("got %v", err)
			}
		}},
		{"undecodable arguments", func(t *testing.T, c *rawClient) {
			c.open("lxc:///system")
			err := c.call(remote.ProcConnectSupportsFeature, &struct{ A, B, C uint32 }{1, 2, 3}, nil)
			if code := wireCode(t, err); code != int32(libvirt.ErrRPC) {
				t.Fatalf("got %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, path)
			tt.run(t, c)
			c.nc.Close()
			stillServes(t, path)
		})
	}
	waitSettled(t, baseG, baseFD)
}

func expectRPCError(t *testing.T, c *rawClient, serial uint32, text string) {
	t.Helper()
	m, err := c.read()
	if err != nil {
		t.Fatal(err)
	}
	if m.hdr.Serial != serial || m.hdr.Status != statusError {
		t.Fatalf("want an error reply to serial %d, got %+v", serial, m.hdr)
	}
	err = decodeReply(m, nil)
	if wireCode(t, err) != int32(libvirt.ErrRPC) || !strings.Contains(err.Error(), text) {
		t.Fatalf("got %v, want VIR_ERR_RPC %q", err, text)
	}
}

// TestManyConnectionsDroppedMidFrame opens 1000 connections, leaves each
// in the middle of a packet and drops it, then checks that the server
// still answers and released every goroutine and descriptor.
func TestManyConnectionsDroppedMidFrame(t *testing.T) {
	s, path := startServer(t)
	stillServes(t, path)
	baseG, baseFD := resources(t)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			nc, err := net.Dial("unix", path)
			if err != nil {
				t.Error(err)
				return
			}
			pkt := encodeMessage(header{Program: remote.RemoteProgram, Version: 1, Procedure: 66, Serial: uint32(i)}, make([]byte, 100), 0)
			nc.Write(pkt[:i%len(pkt)+1])
			nc.Close()
		}(i)
	}
	wg.Wait()
	// The server accepts in order: once a later connection is answered,
	// every dropped one has been accepted, and each must then go away.
	stillServes(t, path)
	waitNoConns(t, s)
	waitSettled(t, baseG, baseFD)
}

// TestOversizedString sends a DOMAIN_DEFINE_XML whose document is 5 MiB,
// over the protocol's 4 MiB string limit: the daemon refuses it with an
// RPC error, writes nothing and keeps serving.
func TestOversizedString(t *testing.T) {
	s, path := startServer(t)
	c := dial(t, path)
	c.open("lxc:///system")
	big := "<domain type='lxc'><name>big</name><description>" + strings.Repeat("x", 5<<20) + "</description></domain>"
	err := c.call(remote.ProcDomainDefineXML, &libvirt.DomainDefineXMLArgs{XML: big}, nil)
	if code := wireCode(t, err); code != int32(libvirt.ErrRPC) || !strings.Contains(err.Error(), "exceeds the limit") {
		t.Fatalf("got %v", err)
	}
	if refs, _ := s.drv.ListDomains(0); len(refs) != 0 {
		t.Fatalf("domains after the refused define: %v", refs)
	}
	stillServes(t, path)
}
