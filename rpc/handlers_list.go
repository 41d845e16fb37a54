package rpc

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/remote"
)

// Limits from remote_protocol.x.
const domainListMax = 16384 // REMOTE_DOMAIN_LIST_MAX

// listActive and listInactive are VIR_CONNECT_LIST_DOMAINS_ACTIVE and
// _INACTIVE.
const (
	listActive   = 1
	listInactive = 2
)

func (s *Server) listHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcConnectListAllDomains}] = call(func(_ *conn, a *libvirt.ConnectListAllDomainsArgs) (*libvirt.ConnectListAllDomainsRet, error) {
		doms, err := s.drv.ListDomains(uint32(a.Flags))
		if err != nil {
			return nil, err
		}
		if len(doms) > domainListMax {
			return nil, rpcErrorf(libvirt.ErrRPC, "Too many domains '%d' for limit '%d'", len(doms), domainListMax)
		}
		ret := &libvirt.ConnectListAllDomainsRet{Ret: uint32(len(doms))}
		if a.NeedResults != 0 {
			ret.Domains = make([]libvirt.Domain, 0, len(doms))
			for _, d := range doms {
				ret.Domains = append(ret.Domains, wireDomain(d))
			}
		}
		return ret, nil
	}).fast()
	t[procKey{r, remote.ProcConnectNumOfDomains}] = call(func(*conn, *struct{}) (*libvirt.ConnectNumOfDomainsRet, error) {
		doms, err := s.drv.ListDomains(listActive)
		return &libvirt.ConnectNumOfDomainsRet{Num: int32(len(doms))}, err
	}).fast()
	t[procKey{r, remote.ProcConnectNumOfDefinedDomains}] = call(func(*conn, *struct{}) (*libvirt.ConnectNumOfDefinedDomainsRet, error) {
		doms, err := s.drv.ListDomains(listInactive)
		return &libvirt.ConnectNumOfDefinedDomainsRet{Num: int32(len(doms))}, err
	}).fast()
	t[procKey{r, remote.ProcConnectListDomains}] = call(func(_ *conn, a *libvirt.ConnectListDomainsArgs) (*libvirt.ConnectListDomainsRet, error) {
		if a.Maxids < 0 || a.Maxids > domainListMax {
			return nil, rpcErrorf(libvirt.ErrRPC, "maxids > REMOTE_DOMAIN_LIST_MAX")
		}
		doms, err := s.drv.ListDomains(listActive)
		ret := &libvirt.ConnectListDomainsRet{Ids: []int32{}}
		for _, d := range limit(doms, int(a.Maxids)) {
			ret.Ids = append(ret.Ids, int32(d.ID))
		}
		return ret, err
	}).fast()
	t[procKey{r, remote.ProcConnectListDefinedDomains}] = call(func(_ *conn, a *libvirt.ConnectListDefinedDomainsArgs) (*libvirt.ConnectListDefinedDomainsRet, error) {
		if a.Maxnames < 0 || a.Maxnames > domainListMax {
			return nil, rpcErrorf(libvirt.ErrRPC, "maxnames > REMOTE_DOMAIN_LIST_MAX")
		}
		doms, err := s.drv.ListDomains(listInactive)
		ret := &libvirt.ConnectListDefinedDomainsRet{Names: []string{}}
		for _, d := range limit(doms, int(a.Maxnames)) {
			ret.Names = append(ret.Names, d.Name)
		}
		return ret, err
	}).fast()
}

func limit(doms []driver.DomainRef, n int) []driver.DomainRef {
	if len(doms) > n {
		return doms[:n]
	}
	return doms
}
