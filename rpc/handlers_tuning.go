package rpc

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/remote"
)

// tuningHandlers serve memory, scheduler and block I/O tuning and
// suspend/resume.
func (s *Server) tuningHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcDomainGetMemoryParameters}] = call(func(_ *conn, a *libvirt.DomainGetMemoryParametersArgs) (*libvirt.DomainGetMemoryParametersRet, error) {
		ps, n, err := getParams(a.Nparams, a.Flags, "virDomainGetMemoryParameters", func() ([]driver.Param, error) {
			return s.drv.MemoryParameters(domRef(a.Dom), a.Flags)
		})
		return &libvirt.DomainGetMemoryParametersRet{Params: ps, Nparams: n}, err
	})
	t[procKey{r, remote.ProcDomainSetMemoryParameters}] = call(func(_ *conn, a *libvirt.DomainSetMemoryParametersArgs) (*struct{}, error) {
		return &struct{}{}, s.setParams(a.Params, "virDomainSetMemoryParameters", func(ps []driver.Param) error {
			return s.drv.SetMemoryParameters(domRef(a.Dom), ps, a.Flags)
		})
	}).writes()
	t[procKey{r, remote.ProcDomainGetBlkioParameters}] = call(func(_ *conn, a *libvirt.DomainGetBlkioParametersArgs) (*libvirt.DomainGetBlkioParametersRet, error) {
		ps, n, err := getParams(a.Nparams, a.Flags, "virDomainGetBlkioParameters", func() ([]driver.Param, error) {
			return s.drv.BlkioParameters(domRef(a.Dom), a.Flags)
		})
		return &libvirt.DomainGetBlkioParametersRet{Params: ps, Nparams: n}, err
	})
	t[procKey{r, remote.ProcDomainSetBlkioParameters}] = call(func(_ *conn, a *libvirt.DomainSetBlkioParametersArgs) (*struct{}, error) {
		return &struct{}{}, s.setParams(a.Params, "virDomainSetBlkioParameters", func(ps []driver.Param) error {
			return s.drv.SetBlkioParameters(domRef(a.Dom), ps, a.Flags)
		})
	}).writes()
	s.schedulerHandlers(t)
	t[procKey{r, remote.ProcDomainSuspend}] = call(func(_ *conn, a *libvirt.DomainSuspendArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.Suspend(domRef(a.Dom))
	}).writes()
	t[procKey{r, remote.ProcDomainResume}] = call(func(_ *conn, a *libvirt.DomainResumeArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.Resume(domRef(a.Dom))
	}).writes()
}

// schedulerHandlers serve schedinfo. The flagless forms act on the
// current definition, as virDomainGetSchedulerParameters does.
func (s *Server) schedulerHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcDomainGetSchedulerType}] = call(func(_ *conn, a *libvirt.DomainGetSchedulerTypeArgs) (*libvirt.DomainGetSchedulerTypeRet, error) {
		typ, n, err := s.drv.SchedulerType(domRef(a.Dom))
		return &libvirt.DomainGetSchedulerTypeRet{Type: typ, Nparams: int32(n)}, err
	})
	getSched := func(dom libvirt.Domain, nparams int32, flags uint32, api string) ([]libvirt.TypedParam, error) {
		if nparams <= 0 {
			return nil, invalidArg("nparams in %s must be greater than zero", api)
		}
		ps, _, err := getParams(nparams, flags|typedParamStringOkay, api, func() ([]driver.Param, error) {
			return s.drv.SchedulerParameters(domRef(dom), flags)
		})
		return ps, err
	}
	t[procKey{r, remote.ProcDomainGetSchedulerParameters}] = call(func(_ *conn, a *libvirt.DomainGetSchedulerParametersArgs) (*libvirt.DomainGetSchedulerParametersRet, error) {
		ps, err := getSched(a.Dom, a.Nparams, 0, "virDomainGetSchedulerParameters")
		return &libvirt.DomainGetSchedulerParametersRet{Params: ps}, err
	})
	t[procKey{r, remote.ProcDomainGetSchedulerParametersFlags}] = call(func(_ *conn, a *libvirt.DomainGetSchedulerParametersFlagsArgs) (*libvirt.DomainGetSchedulerParametersFlagsRet, error) {
		ps, err := getSched(a.Dom, a.Nparams, a.Flags, "virDomainGetSchedulerParametersFlags")
		return &libvirt.DomainGetSchedulerParametersFlagsRet{Params: ps}, err
	})
	t[procKey{r, remote.ProcDomainSetSchedulerParameters}] = call(func(_ *conn, a *libvirt.DomainSetSchedulerParametersArgs) (*struct{}, error) {
		return &struct{}{}, s.setParams(a.Params, "virDomainSetSchedulerParameters", func(ps []driver.Param) error {
			return s.drv.SetSchedulerParameters(domRef(a.Dom), ps, driver.AffectCurrent)
		})
	}).writes()
	t[procKey{r, remote.ProcDomainSetSchedulerParametersFlags}] = call(func(_ *conn, a *libvirt.DomainSetSchedulerParametersFlagsArgs) (*struct{}, error) {
		return &struct{}{}, s.setParams(a.Params, "virDomainSetSchedulerParametersFlags", func(ps []driver.Param) error {
			return s.drv.SetSchedulerParameters(domRef(a.Dom), ps, a.Flags)
		})
	}).writes()
}

// setParams converts a setter's parameters and hands them to set.
func (s *Server) setParams(in []libvirt.TypedParam, api string, set func([]driver.Param) error) error {
	if len(in) == 0 {
		return invalidArg("nparams in %s must be greater than zero", api)
	}
	ps, err := fromWireParams(in, api)
	if err != nil {
		return err
	}
	return set(ps)
}
