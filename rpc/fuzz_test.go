package rpc

import (
	"io"
	"net"
	"os"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"golang.org/x/sys/unix"

	"github.com/nsvirt/nsvirt/rpc/remote"
	"github.com/nsvirt/nsvirt/rpc/xdr"
)

func packet(t testing.TB, prog uint32, proc remote.Procedure, serial uint32, args any) []byte {
	body, err := xdr.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	return encodeMessage(header{Program: prog, Version: 1, Procedure: int32(proc), Type: typeCall, Serial: serial}, body, 0)
}

// socketPair returns two connected unix stream sockets.
func socketPair(t testing.TB) (client, server net.Conn) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	return conns[0], conns[1]
}

// FuzzServe feeds arbitrary bytes to a connection as if a client had sent
// them: frame and header parsing, dispatch and argument decoding must
// never crash the server, and the connection must always end cleanly.
func FuzzServe(f *testing.F) {
	open := packet(f, remote.RemoteProgram, remote.ProcConnectOpen, 2, &libvirt.ConnectOpenArgs{Name: libvirt.OptString{"lxc:///system"}})
	seeds := [][]byte{
		packet(f, remote.RemoteProgram, remote.ProcAuthList, 1, &struct{}{}),
		append(append([]byte{}, open...), packet(f, remote.RemoteProgram, remote.ProcNodeGetInfo, 3, &struct{}{})...),
		append(append([]byte{}, open...), packet(f, remote.RemoteProgram, remote.ProcNodeGetCPUStats, 3,
			&libvirt.NodeGetCPUStatsArgs{CPUNum: -1, Nparams: 4})...),
		append(append([]byte{}, open...), packet(f, remote.RemoteProgram, remote.ProcConnectListAllDomains, 3,
			&libvirt.ConnectListAllDomainsArgs{NeedResults: 1})...),
		append(append([]byte{}, open...), packet(f, remote.RemoteProgram, remote.ProcConnectDomainEventCallbackRegisterAny, 3,
			&libvirt.ConnectDomainEventCallbackRegisterAnyArgs{EventID: 0})...),
		packet(f, remote.RemoteProgram, remote.ProcConnectSupportsFeature, 1, &libvirt.ConnectSupportsFeatureArgs{Feature: 10}),
		keepalivePacket(remote.KeepaliveProcPing),
		packet(f, remote.LXCProgram, 1, 1, &libvirt.DomainCreateArgs{}),
		lengthWord(0),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	s := newTestServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := socketPair(t)
		s.ServeConn(server, false)
		done := make(chan struct{})
		go func() {
			io.Copy(io.Discard, client)
			close(done)
		}()
		client.Write(data)
		client.(*net.UnixConn).CloseWrite()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("connection did not end after its input did")
		}
		client.Close()
	})
}
