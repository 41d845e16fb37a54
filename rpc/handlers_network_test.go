package rpc

import (
	"errors"
	"slices"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/rpc/remote"
)

// loNetwork is a network on the host link lo, which starts without root.
const loNetwork = "<network><name>lan</name><forward mode='bridge'/><bridge name='lo'/></network>"

// TestNetworkHandlers drives the network procedures over the wire and
// checks the error codes and domains clients see.
func TestNetworkHandlers(t *testing.T) {
	_, path := startServer(t)
	c := dial(t, path)
	c.open("lxc:///system")
	var def libvirt.NetworkDefineXMLRet
	if err := c.call(remote.ProcNetworkDefineXML, &libvirt.NetworkDefineXMLArgs{XML: loNetwork}, &def); err != nil {
		t.Fatal(err)
	}
	var all libvirt.ConnectListAllNetworksRet
	if err := c.call(remote.ProcConnectListAllNetworks, &libvirt.ConnectListAllNetworksArgs{NeedResults: 1}, &all); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range all.Nets {
		names = append(names, n.Name)
	}
	if all.Ret != 2 || !slices.Equal(names, []string{"default", "lan"}) {
		t.Fatalf("CONNECT_LIST_ALL_NETWORKS: %d %v", all.Ret, names)
	}
	var defined libvirt.ConnectListDefinedNetworksRet
	if err := c.call(remote.ProcConnectListDefinedNetworks, &libvirt.ConnectListDefinedNetworksArgs{Maxnames: 1}, &defined); err != nil ||
		len(defined.Names) != 1 {
		t.Fatalf("CONNECT_LIST_DEFINED_NETWORKS maxnames 1: %v %v", defined.Names, err)
	}
	err := c.call(remote.ProcConnectListDefinedNetworks, &libvirt.ConnectListDefinedNetworksArgs{Maxnames: -1}, nil)
	if code := wireCode(t, err); code != int32(libvirt.ErrRPC) {
		t.Fatalf("maxnames -1: %v", err)
	}
	if err := c.call(remote.ProcNetworkCreate, &libvirt.NetworkCreateArgs{Net: def.Net}, nil); err != nil {
		t.Fatal(err)
	}
	var active libvirt.NetworkIsActiveRet
	if err := c.call(remote.ProcNetworkIsActive, &libvirt.NetworkIsActiveArgs{Net: def.Net}, &active); err != nil || active.Active != 1 {
		t.Fatalf("NETWORK_IS_ACTIVE: %v %v", active, err)
	}
	var leases libvirt.NetworkGetDhcpLeasesRet
	if err := c.call(remote.ProcNetworkGetDhcpLeases, &libvirt.NetworkGetDhcpLeasesArgs{Net: def.Net, NeedResults: 1}, &leases); err != nil ||
		leases.Ret != 0 {
		t.Fatalf("NETWORK_GET_DHCP_LEASES: %v %v", leases, err)
	}
	if err := c.call(remote.ProcNetworkDestroy, &libvirt.NetworkDestroyArgs{Net: def.Net}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(remote.ProcNetworkUndefine, &libvirt.NetworkUndefineArgs{Net: def.Net}, nil); err != nil {
		t.Fatal(err)
	}
	expectNetError(t, c.call(remote.ProcNetworkLookupByName, &libvirt.NetworkLookupByNameArgs{Name: "lan"}, nil),
		libvirt.ErrNoNetwork, fromNetwork, "Network not found: no network with matching name 'lan'")
	expectNetError(t, c.call(remote.ProcNetworkUpdate, &libvirt.NetworkUpdateArgs{Net: def.Net}, nil),
		libvirt.ErrNoSupport, fromNone, "this function is not supported by the connection driver: virNetworkUpdate")

	ro := dial(t, path+"-ro")
	ro.open("lxc:///system")
	expectNetError(t, ro.call(remote.ProcNetworkDefineXML, &libvirt.NetworkDefineXMLArgs{XML: loNetwork}, nil),
		libvirt.ErrOperationDenied, fromNone, "operation forbidden: read only access prevents virNetworkDefineXML")
}

func expectNetError(t *testing.T, err error, code libvirt.ErrorNumber, domain int32, msg string) {
	t.Helper()
	var e *remoteError
	if !errors.As(err, &e) {
		t.Fatalf("want a libvirt error, got %v", err)
	}
	if e.Code != int32(code) || e.Domain != domain || len(e.Message) != 1 || e.Message[0] != msg {
		t.Errorf("got code %d domain %d %q, want %d %d %q", e.Code, e.Domain, e.Message, code, domain, msg)
	}
}
