package rpc

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/remote"
)

// Limits from remote_protocol.x.
const (
	networkListMax       = 16384 // REMOTE_NETWORK_LIST_MAX
	networkDHCPLeasesMax = 65536 // REMOTE_NETWORK_DHCP_LEASES_MAX
)

func netRef(n libvirt.Network) driver.NetworkRef {
	return driver.NetworkRef{Name: n.Name, UUID: driver.UUID(n.UUID)}
}

// networkHandlers serve the virtual network API (libvirt's network
// driver, which a real lxc:/// connection reaches through virtnetworkd).
// NETWORK_UPDATE is not implemented.
func (s *Server) networkHandlers(t table) {
	s.networkDefineHandlers(t)
	s.networkListHandlers(t)
	s.networkQueryHandlers(t)
	t[procKey{remote.RemoteProgram, remote.ProcNetworkGetDhcpLeases}] = call(s.networkLeases)
}

// networkDefineHandlers serve the calls that change networks.
func (s *Server) networkDefineHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcNetworkDefineXML}] = call(func(_ *conn, a *libvirt.NetworkDefineXMLArgs) (*libvirt.NetworkDefineXMLRet, error) {
		ref, err := s.drv.NetworkDefineXML(a.XML, 0)
		return &libvirt.NetworkDefineXMLRet{Net: wireNetwork(ref)}, err
	}).writes()
	t[procKey{r, remote.ProcNetworkDefineXMLFlags}] = call(func(_ *conn, a *libvirt.NetworkDefineXMLFlagsArgs) (*libvirt.NetworkDefineXMLFlagsRet, error) {
		ref, err := s.drv.NetworkDefineXML(a.XML, a.Flags)
		return &libvirt.NetworkDefineXMLFlagsRet{Net: wireNetwork(ref)}, err
	}).writes()
	t[procKey{r, remote.ProcNetworkCreateXML}] = call(func(_ *conn, a *libvirt.NetworkCreateXMLArgs) (*libvirt.NetworkCreateXMLRet, error) {
		ref, err := s.drv.NetworkCreateXML(a.XML, 0)
		return &libvirt.NetworkCreateXMLRet{Net: wireNetwork(ref)}, err
	}).writes()
	t[procKey{r, remote.ProcNetworkCreateXMLFlags}] = call(func(_ *conn, a *libvirt.NetworkCreateXMLFlagsArgs) (*libvirt.NetworkCreateXMLFlagsRet, error) {
		ref, err := s.drv.NetworkCreateXML(a.XML, a.Flags)
		return &libvirt.NetworkCreateXMLFlagsRet{Net: wireNetwork(ref)}, err
	}).writes()
	t[procKey{r, remote.ProcNetworkCreate}] = call(func(_ *conn, a *libvirt.NetworkCreateArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.NetworkCreate(netRef(a.Net))
	}).writes()
	t[procKey{r, remote.ProcNetworkDestroy}] = call(func(_ *conn, a *libvirt.NetworkDestroyArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.NetworkDestroy(netRef(a.Net))
	}).writes()
	t[procKey{r, remote.ProcNetworkUndefine}] = call(func(_ *conn, a *libvirt.NetworkUndefineArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.NetworkUndefine(netRef(a.Net))
	}).writes()
	t[procKey{r, remote.ProcNetworkSetAutostart}] = call(func(_ *conn, a *libvirt.NetworkSetAutostartArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.NetworkSetAutostart(netRef(a.Net), a.Autostart != 0)
	}).writes()
}

// networkListHandlers serve the listings, old and new.
func (s *Server) networkListHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcConnectListAllNetworks}] = call(func(_ *conn, a *libvirt.ConnectListAllNetworksArgs) (*libvirt.ConnectListAllNetworksRet, error) {
		nets, err := s.drv.ListNetworks(uint32(a.Flags))
		if err != nil {
			return nil, err
		}
		if len(nets) > networkListMax {
			return nil, rpcErrorf(libvirt.ErrRPC, "Too many networks '%d' for limit '%d'", len(nets), networkListMax)
		}
		ret := &libvirt.ConnectListAllNetworksRet{Ret: uint32(len(nets))}
		if a.NeedResults != 0 {
			ret.Nets = make([]libvirt.Network, 0, len(nets))
			for _, n := range nets {
				ret.Nets = append(ret.Nets, wireNetwork(n))
			}
		}
		return ret, nil
	}).fast()
	count := func(flags uint32) (int32, error) {
		nets, err := s.drv.ListNetworks(flags)
		return int32(len(nets)), err
	}
	t[procKey{r, remote.ProcConnectNumOfNetworks}] = call(func(*conn, *struct{}) (*libvirt.ConnectNumOfNetworksRet, error) {
		n, err := count(driver.ListNetworksActive)
		return &libvirt.ConnectNumOfNetworksRet{Num: n}, err
	}).fast()
	t[procKey{r, remote.ProcConnectNumOfDefinedNetworks}] = call(func(*conn, *struct{}) (*libvirt.ConnectNumOfDefinedNetworksRet, error) {
		n, err := count(driver.ListNetworksInactive)
		return &libvirt.ConnectNumOfDefinedNetworksRet{Num: n}, err
	}).fast()
	t[procKey{r, remote.ProcConnectListNetworks}] = call(func(_ *conn, a *libvirt.ConnectListNetworksArgs) (*libvirt.ConnectListNetworksRet, error) {
		names, err := s.networkNames(a.Maxnames, driver.ListNetworksActive)
		return &libvirt.ConnectListNetworksRet{Names: names}, err
	}).fast()
	t[procKey{r, remote.ProcConnectListDefinedNetworks}] = call(func(_ *conn, a *libvirt.ConnectListDefinedNetworksArgs) (*libvirt.ConnectListDefinedNetworksRet, error) {
		names, err := s.networkNames(a.Maxnames, driver.ListNetworksInactive)
		return &libvirt.ConnectListDefinedNetworksRet{Names: names}, err
	}).fast()
}

// networkNames returns up to max names of the networks that pass flags.
func (s *Server) networkNames(max int32, flags uint32) ([]string, error) {
	if max < 0 || max > networkListMax {
		return nil, rpcErrorf(libvirt.ErrRPC, "maxnames > REMOTE_NETWORK_LIST_MAX")
	}
	nets, err := s.drv.ListNetworks(flags)
	names := []string{}
	for _, n := range nets {
		if len(names) == int(max) {
			break
		}
		names = append(names, n.Name)
	}
	return names, err
}

// networkQueryHandlers serve lookups and queries of one network.
func (s *Server) networkQueryHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcNetworkLookupByName}] = call(func(_ *conn, a *libvirt.NetworkLookupByNameArgs) (*libvirt.NetworkLookupByNameRet, error) {
		ref, err := s.drv.NetworkLookupByName(a.Name)
		return &libvirt.NetworkLookupByNameRet{Net: wireNetwork(ref)}, err
	}).fast()
	t[procKey{r, remote.ProcNetworkLookupByUUID}] = call(func(_ *conn, a *libvirt.NetworkLookupByUUIDArgs) (*libvirt.NetworkLookupByUUIDRet, error) {
		ref, err := s.drv.NetworkLookupByUUID(driver.UUID(a.UUID))
		return &libvirt.NetworkLookupByUUIDRet{Net: wireNetwork(ref)}, err
	}).fast()
	t[procKey{r, remote.ProcNetworkGetXMLDesc}] = call(func(_ *conn, a *libvirt.NetworkGetXMLDescArgs) (*libvirt.NetworkGetXMLDescRet, error) {
		x, err := s.drv.NetworkXMLDesc(netRef(a.Net), a.Flags)
		return &libvirt.NetworkGetXMLDescRet{XML: x}, err
	}).fast()
	t[procKey{r, remote.ProcNetworkGetBridgeName}] = call(func(_ *conn, a *libvirt.NetworkGetBridgeNameArgs) (*libvirt.NetworkGetBridgeNameRet, error) {
		name, err := s.drv.NetworkBridgeName(netRef(a.Net))
		return &libvirt.NetworkGetBridgeNameRet{Name: name}, err
	}).fast()
	t[procKey{r, remote.ProcNetworkGetAutostart}] = call(func(_ *conn, a *libvirt.NetworkGetAutostartArgs) (*libvirt.NetworkGetAutostartRet, error) {
		v, err := s.drv.NetworkAutostart(netRef(a.Net))
		return &libvirt.NetworkGetAutostartRet{Autostart: boolInt(v)}, err
	}).fast()
	t[procKey{r, remote.ProcNetworkIsActive}] = call(func(_ *conn, a *libvirt.NetworkIsActiveArgs) (*libvirt.NetworkIsActiveRet, error) {
		v, err := s.drv.NetworkIsActive(netRef(a.Net))
		return &libvirt.NetworkIsActiveRet{Active: boolInt(v)}, err
	}).fast()
	t[procKey{r, remote.ProcNetworkIsPersistent}] = call(func(_ *conn, a *libvirt.NetworkIsPersistentArgs) (*libvirt.NetworkIsPersistentRet, error) {
		v, err := s.drv.NetworkIsPersistent(netRef(a.Net))
		return &libvirt.NetworkIsPersistentRet{Persistent: boolInt(v)}, err
	}).fast()
}

// networkLeases serves NETWORK_GET_DHCP_LEASES: the count always, the
// leases when the client asks for them.
func (s *Server) networkLeases(_ *conn, a *libvirt.NetworkGetDhcpLeasesArgs) (*libvirt.NetworkGetDhcpLeasesRet, error) {
	mac := ""
	if m := optString(a.Mac); m != nil {
		mac = *m
	}
	leases, err := s.drv.NetworkDHCPLeases(netRef(a.Net), mac, a.Flags)
	if err != nil {
		return nil, err
	}
	if len(leases) > networkDHCPLeasesMax {
		return nil, rpcErrorf(libvirt.ErrRPC, "Number of leases is %d, which exceeds max limit: %d", len(leases), networkDHCPLeasesMax)
	}
	ret := &libvirt.NetworkGetDhcpLeasesRet{Ret: uint32(len(leases))}
	if a.NeedResults == 0 {
		return ret, nil
	}
	ret.Leases = make([]libvirt.NetworkDhcpLease, 0, len(leases))
	for _, l := range leases {
		ret.Leases = append(ret.Leases, libvirt.NetworkDhcpLease{
			Iface: l.Iface, Expirytime: l.ExpiryTime, Type: int32(l.Type), Mac: opt(l.MAC), Iaid: opt(l.IAID),
			Ipaddr: l.IPAddr, Prefix: uint32(l.Prefix), Hostname: opt(l.Hostname), Clientid: opt(l.ClientID),
		})
	}
	return ret, nil
}

// opt is an optional string on the wire: absent when empty.
func opt(s string) libvirt.OptString {
	if s == "" {
		return nil
	}
	return libvirt.OptString{s}
}
