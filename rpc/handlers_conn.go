package rpc

import (
	"fmt"
	"net/url"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/remote"
)

// Driver features (virDrvFeature) clients probe with
// CONNECT_SUPPORTS_FEATURE.
const (
	featureFDPassing             = 8
	featureTypedParamString      = 9
	featureProgramKeepalive      = 10
	featureRemoteEventCallback   = 14
	featureRemoteCloseCallback   = 15
	featureNetworkUpdateHasOrder = 16
)

// connectRO is VIR_CONNECT_RO.
const connectRO = 1

// Limits from remote_protocol.x.
const (
	nodeCPUStatsMax    = 16
	nodeMemoryStatsMax = 16
	nodeMaxCells       = 1024
)

func invalidArg(format string, args ...any) error {
	return &driver.Error{Kind: driver.KindInvalidArg, Msg: fmt.Sprintf(format, args...)}
}

// cstring encodes s as libvirt's char arrays: the bytes plus a NUL.
func cstring(s string) []int8 {
	out := make([]int8, 0, len(s)+1)
	for i := 0; i < len(s); i++ {
		out = append(out, int8(s[i]))
	}
	return append(out, 0)
}

func (s *Server) connHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcAuthList}] = call(func(*conn, *struct{}) (*libvirt.AuthListRet, error) {
		return &libvirt.AuthListRet{Types: []libvirt.AuthType{0}}, nil // REMOTE_AUTH_NONE
	}).open().fast()
	t[procKey{r, remote.ProcAuthPolkit}] = call(func(*conn, *struct{}) (*libvirt.AuthPolkitRet, error) {
		return &libvirt.AuthPolkitRet{Complete: 1}, nil
	}).open()
	t[procKey{r, remote.ProcConnectSupportsFeature}] = call(s.supportsFeature).open().fast()
	t[procKey{r, remote.ProcConnectOpen}] = call(s.connectOpen).open()
	t[procKey{r, remote.ProcConnectClose}] = call(func(c *conn, _ *struct{}) (*struct{}, error) {
		c.mu.Lock()
		c.opened = false
		c.mu.Unlock()
		s.drv.CloseSession(c.id)
		return &struct{}{}, nil
	})
	t[procKey{r, remote.ProcConnectGetUri}] = call(func(c *conn, _ *struct{}) (*libvirt.ConnectGetUriRet, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return &libvirt.ConnectGetUriRet{Uri: c.uri}, nil
	}).fast()
	t[procKey{r, remote.ProcConnectGetType}] = call(func(*conn, *struct{}) (*libvirt.ConnectGetTypeRet, error) {
		return &libvirt.ConnectGetTypeRet{Type: s.drv.Type()}, nil
	}).fast()
	t[procKey{r, remote.ProcConnectGetVersion}] = call(func(*conn, *struct{}) (*libvirt.ConnectGetVersionRet, error) {
		v, err := s.drv.Version()
		return &libvirt.ConnectGetVersionRet{HvVer: v}, err
	})
	t[procKey{r, remote.ProcConnectGetLibVersion}] = call(func(*conn, *struct{}) (*libvirt.ConnectGetLibVersionRet, error) {
		return &libvirt.ConnectGetLibVersionRet{LibVer: driver.LibVersion}, nil
	}).fast()
	t[procKey{r, remote.ProcConnectGetHostname}] = call(func(*conn, *struct{}) (*libvirt.ConnectGetHostnameRet, error) {
		h, err := s.drv.Hostname()
		return &libvirt.ConnectGetHostnameRet{Hostname: h}, err
	}).fast()
	t[procKey{r, remote.ProcConnectIsSecure}] = call(func(*conn, *struct{}) (*libvirt.ConnectIsSecureRet, error) {
		return &libvirt.ConnectIsSecureRet{Secure: 1}, nil // a local unix socket
	}).fast()
	t[procKey{r, remote.ProcConnectRegisterCloseCallback}] = call(func(c *conn, _ *struct{}) (*struct{}, error) {
		c.mu.Lock()
		c.closeCB = true
		c.mu.Unlock()
		return &struct{}{}, nil
	}).fast()
	t[procKey{r, remote.ProcConnectUnregisterCloseCallback}] = call(func(c *conn, _ *struct{}) (*struct{}, error) {
		c.mu.Lock()
		c.closeCB = false
		c.mu.Unlock()
		return &struct{}{}, nil
	}).fast()
	s.nodeHandlers(t)
}

// supportsFeature answers as libvirtd does: the daemon itself answers
// FD passing, keepalive and the event/close callback features (these work
// before CONNECT_OPEN); the LXC driver answers the rest.
func (s *Server) supportsFeature(c *conn, a *libvirt.ConnectSupportsFeatureArgs) (*libvirt.ConnectSupportsFeatureRet, error) {
	yes := &libvirt.ConnectSupportsFeatureRet{Supported: 1}
	switch a.Feature {
	case featureProgramKeepalive:
		c.startKeepalive()
		return yes, nil
	case featureFDPassing, featureRemoteEventCallback, featureRemoteCloseCallback:
		return yes, nil
	}
	c.mu.Lock()
	opened := c.opened
	c.mu.Unlock()
	if !opened {
		return nil, rpcErrorf(libvirt.ErrInternalError, "connection not open")
	}
	switch a.Feature {
	case featureTypedParamString, featureNetworkUpdateHasOrder:
		return yes, nil
	}
	return &libvirt.ConnectSupportsFeatureRet{}, nil
}

// connectOpen accepts the URIs libvirt's LXC driver accepts: lxc:///,
// lxc:///system, and the empty name of a client probing for its default.
func (s *Server) connectOpen(c *conn, a *libvirt.ConnectOpenArgs) (*struct{}, error) {
	name := ""
	if len(a.Name) > 0 {
		name = a.Name[0]
	}
	uri, err := checkURI(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.opened {
		return nil, rpcErrorf(libvirt.ErrInternalError, "connection already open")
	}
	c.opened, c.uri = true, uri
	c.readOnly = c.roSocket || a.Flags&connectRO != 0
	return &struct{}{}, nil
}

func checkURI(name string) (string, error) {
	if name == "" {
		return "lxc:///system", nil
	}
	u, err := url.Parse(name)
	if err != nil || u.Scheme != "lxc" || u.Host != "" || u.Opaque != "" {
		return "", &wireErr{code: libvirt.ErrNoConnect, domain: fromNone,
			msg: "no connection driver available for " + name}
	}
	switch u.Path {
	case "", "/", "/system":
		return name, nil
	}
	return "", &wireErr{code: libvirt.ErrInternalError, domain: fromLXC,
		msg: fmt.Sprintf("internal error: unexpected LXC URI path '%s', try lxc:///system", u.Path)}
}

func (s *Server) nodeHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcNodeGetInfo}] = call(func(*conn, *struct{}) (*libvirt.NodeGetInfoRet, error) {
		info, err := s.drv.NodeInfo()
		if err != nil {
			return nil, err
		}
		ret := &libvirt.NodeGetInfoRet{
			Memory: info.MemoryKiB, Cpus: int32(info.CPUs), Mhz: int32(info.MHz),
			Nodes: int32(info.Nodes), Sockets: int32(info.Sockets), Cores: int32(info.Cores), Threads: int32(info.Threads),
		}
		for i := 0; i < len(info.Model) && i < len(ret.Model)-1; i++ {
			ret.Model[i] = int8(info.Model[i])
		}
		return ret, nil
	}).fast()
	t[procKey{r, remote.ProcConnectGetCapabilities}] = call(func(*conn, *struct{}) (*libvirt.ConnectGetCapabilitiesRet, error) {
		x, err := s.drv.Capabilities()
		return &libvirt.ConnectGetCapabilitiesRet{Capabilities: x}, err
	})
	t[procKey{r, remote.ProcConnectGetSysinfo}] = call(func(_ *conn, a *libvirt.ConnectGetSysinfoArgs) (*libvirt.ConnectGetSysinfoRet, error) {
		if a.Flags != 0 {
			return nil, invalidArg("unsupported flags (0x%x) in function virConnectGetSysinfo", a.Flags)
		}
		x, err := s.drv.Sysinfo()
		return &libvirt.ConnectGetSysinfoRet{Sysinfo: x}, err
	})
	t[procKey{r, remote.ProcNodeGetCPUStats}] = call(s.nodeCPUStats)
	t[procKey{r, remote.ProcNodeGetMemoryStats}] = call(s.nodeMemoryStats)
	t[procKey{r, remote.ProcNodeGetFreeMemory}] = call(func(*conn, *struct{}) (*libvirt.NodeGetFreeMemoryRet, error) {
		v, err := s.drv.NodeFreeMemory()
		return &libvirt.NodeGetFreeMemoryRet{FreeMem: v}, err
	})
	t[procKey{r, remote.ProcNodeGetCellsFreeMemory}] = call(func(_ *conn, a *libvirt.NodeGetCellsFreeMemoryArgs) (*libvirt.NodeGetCellsFreeMemoryRet, error) {
		if a.Maxcells <= 0 || a.Maxcells > nodeMaxCells {
			return nil, rpcErrorf(libvirt.ErrRPC, "maxCells > REMOTE_NODE_MAX_CELLS")
		}
		cells, err := s.drv.NodeCellsFreeMemory(int(a.StartCell), int(a.Maxcells))
		return &libvirt.NodeGetCellsFreeMemoryRet{Cells: cells}, err
	})
	t[procKey{r, remote.ProcNodeGetCPUMap}] = call(func(_ *conn, a *libvirt.NodeGetCPUMapArgs) (*libvirt.NodeGetCPUMapRet, error) {
		n, online, err := s.drv.NodeCPUMap()
		if err != nil {
			return nil, err
		}
		ret := &libvirt.NodeGetCPUMapRet{Ret: int32(n)}
		cpumap := make([]byte, (n+7)/8)
		for i, on := range online {
			if on {
				cpumap[i/8] |= 1 << (i % 8)
				ret.Online++
			}
		}
		if a.NeedMap != 0 {
			ret.Cpumap = cpumap
		}
		return ret, nil
	})
	t[procKey{r, remote.ProcNodeGetSecurityModel}] = call(func(*conn, *struct{}) (*libvirt.NodeGetSecurityModelRet, error) {
		return &libvirt.NodeGetSecurityModelRet{Model: cstring("none"), Doi: cstring("0")}, nil
	}).fast()
}

func (s *Server) nodeCPUStats(_ *conn, a *libvirt.NodeGetCPUStatsArgs) (*libvirt.NodeGetCPUStatsRet, error) {
	if a.Nparams < 0 || a.Nparams > nodeCPUStatsMax {
		return nil, rpcErrorf(libvirt.ErrRPC, "nparams too large")
	}
	stats, err := s.drv.NodeCPUStats(int(a.CPUNum))
	if err != nil {
		return nil, err
	}
	if a.Nparams == 0 {
		return &libvirt.NodeGetCPUStatsRet{Nparams: int32(len(stats))}, nil
	}
	if int(a.Nparams) != len(stats) {
		return nil, invalidArg("nparams in virNodeGetCPUStats must be equal to %d", len(stats))
	}
	ret := &libvirt.NodeGetCPUStatsRet{Nparams: int32(len(stats))}
	for _, st := range stats {
		ret.Params = append(ret.Params, libvirt.NodeGetCPUStats{Field: st.Field, Value: st.Value})
	}
	return ret, nil
}

func (s *Server) nodeMemoryStats(_ *conn, a *libvirt.NodeGetMemoryStatsArgs) (*libvirt.NodeGetMemoryStatsRet, error) {
	if a.Nparams < 0 || a.Nparams > nodeMemoryStatsMax {
		return nil, rpcErrorf(libvirt.ErrRPC, "nparams too large")
	}
	stats, err := s.drv.NodeMemoryStats(int(a.CellNum))
	if err != nil {
		return nil, err
	}
	if a.Nparams == 0 {
		return &libvirt.NodeGetMemoryStatsRet{Nparams: int32(len(stats))}, nil
	}
	if int(a.Nparams) != len(stats) {
		return nil, invalidArg("nparams in virNodeGetMemoryStats must be %d", len(stats))
	}
	ret := &libvirt.NodeGetMemoryStatsRet{Nparams: int32(len(stats))}
	for _, st := range stats {
		ret.Params = append(ret.Params, libvirt.NodeGetMemoryStats{Field: st.Field, Value: st.Value})
	}
	return ret, nil
}
