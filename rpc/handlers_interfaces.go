package rpc

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/remote"
)

// interfaceHandlers serve device changes and interface information.
func (s *Server) interfaceHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcDomainAttachDevice}] = call(func(_ *conn, a *libvirt.DomainAttachDeviceArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.AttachDevice(domRef(a.Dom), a.XML, driver.AffectLive)
	}).writes()
	t[procKey{r, remote.ProcDomainAttachDeviceFlags}] = call(func(_ *conn, a *libvirt.DomainAttachDeviceFlagsArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.AttachDevice(domRef(a.Dom), a.XML, a.Flags)
	}).writes()
	t[procKey{r, remote.ProcDomainDetachDevice}] = call(func(_ *conn, a *libvirt.DomainDetachDeviceArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.DetachDevice(domRef(a.Dom), a.XML, driver.AffectLive)
	}).writes()
	t[procKey{r, remote.ProcDomainDetachDeviceFlags}] = call(func(_ *conn, a *libvirt.DomainDetachDeviceFlagsArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.DetachDevice(domRef(a.Dom), a.XML, a.Flags)
	}).writes()
	t[procKey{r, remote.ProcDomainUpdateDeviceFlags}] = call(func(_ *conn, a *libvirt.DomainUpdateDeviceFlagsArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.UpdateDevice(domRef(a.Dom), a.XML, uint32(a.Flags))
	}).writes()
	t[procKey{r, remote.ProcDomainInterfaceStats}] = call(func(_ *conn, a *libvirt.DomainInterfaceStatsArgs) (*libvirt.DomainInterfaceStatsRet, error) {
		st, err := s.drv.InterfaceStats(domRef(a.Dom), a.Device)
		return &libvirt.DomainInterfaceStatsRet{
			RxBytes: st.RxBytes, RxPackets: st.RxPackets, RxErrs: st.RxErrs, RxDrop: st.RxDrop,
			TxBytes: st.TxBytes, TxPackets: st.TxPackets, TxErrs: st.TxErrs, TxDrop: st.TxDrop,
		}, err
	})
	t[procKey{r, remote.ProcDomainInterfaceAddresses}] = call(func(_ *conn, a *libvirt.DomainInterfaceAddressesArgs) (*libvirt.DomainInterfaceAddressesRet, error) {
		ifaces, err := s.drv.InterfaceAddresses(domRef(a.Dom), a.Source, a.Flags)
		ret := &libvirt.DomainInterfaceAddressesRet{}
		for _, ia := range ifaces {
			wi := libvirt.DomainInterface{Name: ia.Name}
			if ia.HwAddr != "" {
				wi.Hwaddr = libvirt.OptString{ia.HwAddr}
			}
			for _, ad := range ia.Addrs {
				wi.Addrs = append(wi.Addrs, libvirt.DomainIPAddr{Type: ad.Type, Addr: ad.Addr, Prefix: ad.Prefix})
			}
			ret.Ifaces = append(ret.Ifaces, wi)
		}
		return ret, err
	})
	t[procKey{r, remote.ProcDomainGetHostname}] = call(func(_ *conn, a *libvirt.DomainGetHostnameArgs) (*libvirt.DomainGetHostnameRet, error) {
		h, err := s.drv.DomainHostname(domRef(a.Dom), uint32(a.Flags))
		return &libvirt.DomainGetHostnameRet{Hostname: h}, err
	})
}
