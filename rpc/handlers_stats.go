package rpc

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/remote"
)

// memoryStatsMax is REMOTE_DOMAIN_MEMORY_STATS_MAX.
const memoryStatsMax = 1024

// statsHandlers serve the statistics of running domains.
func (s *Server) statsHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcDomainMemoryStats}] = call(func(_ *conn, a *libvirt.DomainMemoryStatsArgs) (*libvirt.DomainMemoryStatsRet, error) {
		if a.MaxStats > memoryStatsMax {
			return nil, rpcErrorf(libvirt.ErrInternalError, "maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX")
		}
		stats, err := s.drv.MemoryStats(domRef(a.Dom), a.MaxStats, a.Flags)
		ret := &libvirt.DomainMemoryStatsRet{}
		for _, st := range stats {
			ret.Stats = append(ret.Stats, libvirt.DomainMemoryStat{Tag: st.Tag, Val: st.Value})
		}
		return ret, err
	})
	t[procKey{r, remote.ProcDomainBlockStats}] = call(func(_ *conn, a *libvirt.DomainBlockStatsArgs) (*libvirt.DomainBlockStatsRet, error) {
		st, err := s.drv.BlockStats(domRef(a.Dom), a.Path)
		return &libvirt.DomainBlockStatsRet{RdReq: st.RdReq, RdBytes: st.RdBytes, WrReq: st.WrReq, WrBytes: st.WrBytes, Errs: st.Errs}, err
	})
	t[procKey{r, remote.ProcDomainBlockStatsFlags}] = call(func(_ *conn, a *libvirt.DomainBlockStatsFlagsArgs) (*libvirt.DomainBlockStatsFlagsRet, error) {
		ps, n, err := getParams(a.Nparams, a.Flags, "virDomainBlockStatsFlags", func() ([]driver.Param, error) {
			return s.drv.BlockStatsParams(domRef(a.Dom), a.Path, a.Flags)
		})
		return &libvirt.DomainBlockStatsFlagsRet{Params: ps, Nparams: n}, err
	})
	t[procKey{r, remote.ProcDomainGetCPUStats}] = call(func(_ *conn, a *libvirt.DomainGetCPUStatsArgs) (*libvirt.DomainGetCPUStatsRet, error) {
		return s.cpuStats(a)
	})
	t[procKey{r, remote.ProcConnectGetAllDomainStats}] = call(func(_ *conn, a *libvirt.ConnectGetAllDomainStatsArgs) (*libvirt.ConnectGetAllDomainStatsRet, error) {
		refs := make([]driver.DomainRef, 0, len(a.Doms))
		for _, d := range a.Doms {
			refs = append(refs, domRef(d))
		}
		recs, err := s.drv.AllDomainStats(refs, a.Stats, a.Flags)
		if err != nil {
			return nil, err
		}
		if len(recs) > statsRecordsMax {
			return nil, rpcErrorf(libvirt.ErrInternalError, "Too many records in the statistics reply")
		}
		ret := &libvirt.ConnectGetAllDomainStatsRet{}
		for _, rec := range recs {
			ret.RetStats = append(ret.RetStats, libvirt.DomainStatsRecord{
				Dom: wireDomain(rec.Dom), Params: toWireParams(rec.Params, typedParamStringOkay),
			})
		}
		return ret, nil
	})
}

// cpuStats answers virDomainGetCPUStats as libvirt's dispatcher and
// cgroup code do: start_cpu -1 asks for the totals (cpu_time, user_time,
// system_time); otherwise ncpus CPUs from start_cpu, each with cpu_time.
// nparams 0 asks how many parameters there are per CPU, and ncpus 0 (with
// nparams 0) how many CPUs the host has.
func (s *Server) cpuStats(a *libvirt.DomainGetCPUStatsArgs) (*libvirt.DomainGetCPUStatsRet, error) {
	flags := uint32(a.Flags)
	if a.Nparams > cpuStatsParams {
		return nil, rpcErrorf(libvirt.ErrInternalError, "nparams too large")
	}
	if a.Ncpus > cpuStatsNCPUs {
		return nil, rpcErrorf(libvirt.ErrInternalError, "ncpus too large")
	}
	if flags&^typedParamStringOkay != 0 {
		return nil, invalidArg("unsupported flags (0x%x) in function virDomainGetCPUStats", flags)
	}
	dom := domRef(a.Dom)
	if a.StartCPU == -1 {
		if a.Ncpus != 1 {
			return nil, invalidArg("ncpus in virDomainGetCPUStats must be 1 when start_cpu is -1")
		}
		ps, err := s.drv.TotalCPUStats(dom)
		if err != nil {
			return nil, err
		}
		if a.Nparams == 0 {
			return &libvirt.DomainGetCPUStatsRet{Nparams: int32(len(ps))}, nil
		}
		ps = ps[:min(len(ps), int(a.Nparams))]
		return &libvirt.DomainGetCPUStatsRet{Params: toWireParams(ps, flags), Nparams: int32(len(ps))}, nil
	}
	if a.StartCPU < 0 {
		return nil, invalidArg("start_cpu in virDomainGetCPUStats must be -1 or greater than or equal to zero")
	}
	perCPU, err := s.drv.PerCPUStats(dom)
	if err != nil {
		return nil, err
	}
	switch {
	case a.Nparams == 0 && a.Ncpus != 0:
		return &libvirt.DomainGetCPUStatsRet{Nparams: 1}, nil
	case a.Ncpus == 0:
		return &libvirt.DomainGetCPUStatsRet{Nparams: int32(len(perCPU))}, nil
	case int(a.StartCPU) >= len(perCPU):
		return nil, invalidArg("start_cpu %d larger than maximum of %d", a.StartCPU, len(perCPU)-1)
	}
	// Each CPU's stride is nparams wide; only cpu_time is filled, and the
	// client expands the stride back (ret.nparams is the stride it uses).
	ret := &libvirt.DomainGetCPUStatsRet{Nparams: 1}
	end := min(len(perCPU), int(a.StartCPU)+int(a.Ncpus))
	for cpu := int(a.StartCPU); cpu < end; cpu++ {
		ret.Params = append(ret.Params, toWireParams([]driver.Param{{Field: "cpu_time", Value: perCPU[cpu]}}, flags)...)
	}
	return ret, nil
}
