package rpc

import (
	"os"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/rpc/remote"
)

// filesFrom wraps descriptors received with a call (CALL_WITH_FDS).
func filesFrom(fds []int) []*os.File {
	var out []*os.File
	for _, fd := range fds {
		out = append(out, os.NewFile(uintptr(fd), "passed"))
	}
	return out
}

// lifecycleHandlers serve starting and stopping domains.
func (s *Server) lifecycleHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcDomainCreate}] = call(func(c *conn, a *libvirt.DomainCreateArgs) (*struct{}, error) {
		_, err := s.drv.Create(domRef(a.Dom), 0, nil, c.id)
		return &struct{}{}, err
	}).writes()
	t[procKey{r, remote.ProcDomainCreateWithFlags}] = call(func(c *conn, a *libvirt.DomainCreateWithFlagsArgs) (*libvirt.DomainCreateWithFlagsRet, error) {
		ref, err := s.drv.Create(domRef(a.Dom), a.Flags, nil, c.id)
		return &libvirt.DomainCreateWithFlagsRet{Dom: wireDomain(ref)}, err
	}).writes()
	t[procKey{r, remote.ProcDomainCreateWithFiles}] = callFDs(func(c *conn, a *libvirt.DomainCreateWithFilesArgs, fds []int) (*libvirt.DomainCreateWithFilesRet, []int, error) {
		ref, err := s.drv.Create(domRef(a.Dom), uint32(a.Flags), filesFrom(fds), c.id)
		return &libvirt.DomainCreateWithFilesRet{Dom: wireDomain(ref)}, nil, err
	}).writes()
	t[procKey{r, remote.ProcDomainCreateXML}] = call(func(c *conn, a *libvirt.DomainCreateXMLArgs) (*libvirt.DomainCreateXMLRet, error) {
		ref, err := s.drv.CreateXML(a.XMLDesc, uint32(a.Flags), nil, c.id)
		return &libvirt.DomainCreateXMLRet{Dom: wireDomain(ref)}, err
	}).writes()
	t[procKey{r, remote.ProcDomainCreateXMLWithFiles}] = callFDs(func(c *conn, a *libvirt.DomainCreateXMLWithFilesArgs, fds []int) (*libvirt.DomainCreateXMLWithFilesRet, []int, error) {
		ref, err := s.drv.CreateXML(a.XMLDesc, uint32(a.Flags), filesFrom(fds), c.id)
		return &libvirt.DomainCreateXMLWithFilesRet{Dom: wireDomain(ref)}, nil, err
	}).writes()
	t[procKey{r, remote.ProcDomainDestroy}] = call(func(_ *conn, a *libvirt.DomainDestroyArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.Destroy(domRef(a.Dom), 0)
	}).writes()
	t[procKey{r, remote.ProcDomainDestroyFlags}] = call(func(_ *conn, a *libvirt.DomainDestroyFlagsArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.Destroy(domRef(a.Dom), uint32(a.Flags))
	}).writes()
	t[procKey{r, remote.ProcDomainShutdown}] = call(func(_ *conn, a *libvirt.DomainShutdownArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.Shutdown(domRef(a.Dom), 0)
	}).writes()
	t[procKey{r, remote.ProcDomainShutdownFlags}] = call(func(_ *conn, a *libvirt.DomainShutdownFlagsArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.Shutdown(domRef(a.Dom), uint32(a.Flags))
	}).writes()
	t[procKey{r, remote.ProcDomainReboot}] = call(func(_ *conn, a *libvirt.DomainRebootArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.Reboot(domRef(a.Dom), uint32(a.Flags))
	}).writes()
}
