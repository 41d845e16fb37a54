package rpc

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/remote"
)

func domRef(d libvirt.Domain) driver.DomainRef {
	return driver.DomainRef{Name: d.Name, UUID: driver.UUID(d.UUID), ID: int(d.ID)}
}

func optString(s libvirt.OptString) *string {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// definitionHandlers serve defining, looking up and querying domains.
func (s *Server) definitionHandlers(t table) {
	r := remote.RemoteProgram
	define := func(xml string, flags uint32) (*libvirt.DomainDefineXMLRet, error) {
		ref, err := s.drv.DefineXML(xml, flags)
		return &libvirt.DomainDefineXMLRet{Dom: wireDomain(ref)}, err
	}
	t[procKey{r, remote.ProcDomainDefineXML}] = call(func(_ *conn, a *libvirt.DomainDefineXMLArgs) (*libvirt.DomainDefineXMLRet, error) {
		return define(a.XML, 0)
	}).writes()
	t[procKey{r, remote.ProcDomainDefineXMLFlags}] = call(func(_ *conn, a *libvirt.DomainDefineXMLFlagsArgs) (*libvirt.DomainDefineXMLRet, error) {
		return define(a.XML, uint32(a.Flags))
	}).writes()
	t[procKey{r, remote.ProcDomainUndefine}] = call(func(_ *conn, a *libvirt.DomainUndefineArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.Undefine(domRef(a.Dom), 0)
	}).writes()
	t[procKey{r, remote.ProcDomainUndefineFlags}] = call(func(_ *conn, a *libvirt.DomainUndefineFlagsArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.Undefine(domRef(a.Dom), uint32(a.Flags))
	}).writes()
	t[procKey{r, remote.ProcDomainLookupByName}] = call(func(_ *conn, a *libvirt.DomainLookupByNameArgs) (*libvirt.DomainLookupByNameRet, error) {
		ref, err := s.drv.LookupByName(a.Name)
		return &libvirt.DomainLookupByNameRet{Dom: wireDomain(ref)}, err
	}).fast()
	t[procKey{r, remote.ProcDomainLookupByUUID}] = call(func(_ *conn, a *libvirt.DomainLookupByUUIDArgs) (*libvirt.DomainLookupByUUIDRet, error) {
		ref, err := s.drv.LookupByUUID(driver.UUID(a.UUID))
		return &libvirt.DomainLookupByUUIDRet{Dom: wireDomain(ref)}, err
	}).fast()
	t[procKey{r, remote.ProcDomainLookupByID}] = call(func(_ *conn, a *libvirt.DomainLookupByIDArgs) (*libvirt.DomainLookupByIDRet, error) {
		ref, err := s.drv.LookupByID(int(a.ID))
		return &libvirt.DomainLookupByIDRet{Dom: wireDomain(ref)}, err
	}).fast()
	t[procKey{r, remote.ProcDomainGetXMLDesc}] = call(func(c *conn, a *libvirt.DomainGetXMLDescArgs) (*libvirt.DomainGetXMLDescRet, error) {
		if a.Flags&driver.XMLSecure != 0 && c.isReadOnly() {
			return nil, readOnlyDenied("virDomainGetXMLDesc with secure flag")
		}
		x, err := s.drv.XMLDesc(domRef(a.Dom), uint32(a.Flags))
		return &libvirt.DomainGetXMLDescRet{XML: x}, err
	}).fast()
	t[procKey{r, remote.ProcDomainGetInfo}] = call(func(_ *conn, a *libvirt.DomainGetInfoArgs) (*libvirt.DomainGetInfoRet, error) {
		info, err := s.drv.Info(domRef(a.Dom))
		return &libvirt.DomainGetInfoRet{
			State: uint8(info.State), MaxMem: info.MaxMemKiB, Memory: info.MemoryKiB,
			NrVirtCPU: uint16(info.VCPUs), CPUTime: info.CPUTimeNs,
		}, err
	}).fast()
	t[procKey{r, remote.ProcDomainGetState}] = call(func(_ *conn, a *libvirt.DomainGetStateArgs) (*libvirt.DomainGetStateRet, error) {
		if a.Flags != 0 {
			return nil, invalidArg("unsupported flags (0x%x) in function virDomainGetState", a.Flags)
		}
		st, reason, err := s.drv.State(domRef(a.Dom))
		return &libvirt.DomainGetStateRet{State: int32(st), Reason: int32(reason)}, err
	}).fast()
	s.domainFlagHandlers(t)
	s.metadataHandlers(t)
	t[procKey{r, remote.ProcConnectDomainXMLFromNative}] = call(func(_ *conn, a *libvirt.ConnectDomainXMLFromNativeArgs) (*libvirt.ConnectDomainXMLFromNativeRet, error) {
		x, err := s.drv.XMLFromNative(a.NativeFormat, a.NativeConfig, a.Flags)
		return &libvirt.ConnectDomainXMLFromNativeRet{DomainXML: x}, err
	})
	t[procKey{r, remote.ProcConnectDomainXMLToNative}] = call(func(_ *conn, a *libvirt.ConnectDomainXMLToNativeArgs) (*libvirt.ConnectDomainXMLToNativeRet, error) {
		x, err := s.drv.XMLToNative(a.NativeFormat, a.DomainXML, a.Flags)
		return &libvirt.ConnectDomainXMLToNativeRet{NativeConfig: x}, err
	})
}

// domainFlagHandlers serve the yes/no and single-value queries.
func (s *Server) domainFlagHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcDomainIsActive}] = call(func(_ *conn, a *libvirt.DomainIsActiveArgs) (*libvirt.DomainIsActiveRet, error) {
		v, err := s.drv.IsActive(domRef(a.Dom))
		return &libvirt.DomainIsActiveRet{Active: boolInt(v)}, err
	}).fast()
	t[procKey{r, remote.ProcDomainIsPersistent}] = call(func(_ *conn, a *libvirt.DomainIsPersistentArgs) (*libvirt.DomainIsPersistentRet, error) {
		v, err := s.drv.IsPersistent(domRef(a.Dom))
		return &libvirt.DomainIsPersistentRet{Persistent: boolInt(v)}, err
	}).fast()
	t[procKey{r, remote.ProcDomainIsUpdated}] = call(func(_ *conn, a *libvirt.DomainIsUpdatedArgs) (*libvirt.DomainIsUpdatedRet, error) {
		v, err := s.drv.IsUpdated(domRef(a.Dom))
		return &libvirt.DomainIsUpdatedRet{Updated: boolInt(v)}, err
	}).fast()
	t[procKey{r, remote.ProcDomainGetOsType}] = call(func(_ *conn, a *libvirt.DomainGetOsTypeArgs) (*libvirt.DomainGetOsTypeRet, error) {
		v, err := s.drv.OSType(domRef(a.Dom))
		return &libvirt.DomainGetOsTypeRet{Type: v}, err
	}).fast()
	t[procKey{r, remote.ProcDomainGetMaxMemory}] = call(func(_ *conn, a *libvirt.DomainGetMaxMemoryArgs) (*libvirt.DomainGetMaxMemoryRet, error) {
		v, err := s.drv.MaxMemory(domRef(a.Dom))
		return &libvirt.DomainGetMaxMemoryRet{Memory: v}, err
	}).fast()
	t[procKey{r, remote.ProcDomainSetMaxMemory}] = call(func(_ *conn, a *libvirt.DomainSetMaxMemoryArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.SetMemory(domRef(a.Dom), a.Memory, driver.MemMaximum)
	}).writes()
	t[procKey{r, remote.ProcDomainSetMemory}] = call(func(_ *conn, a *libvirt.DomainSetMemoryArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.SetMemory(domRef(a.Dom), a.Memory, driver.AffectLive)
	}).writes()
	t[procKey{r, remote.ProcDomainSetMemoryFlags}] = call(func(_ *conn, a *libvirt.DomainSetMemoryFlagsArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.SetMemory(domRef(a.Dom), a.Memory, a.Flags)
	}).writes()
	t[procKey{r, remote.ProcDomainGetAutostart}] = call(func(_ *conn, a *libvirt.DomainGetAutostartArgs) (*libvirt.DomainGetAutostartRet, error) {
		v, err := s.drv.Autostart(domRef(a.Dom))
		return &libvirt.DomainGetAutostartRet{Autostart: boolInt(v)}, err
	}).fast()
	t[procKey{r, remote.ProcDomainSetAutostart}] = call(func(_ *conn, a *libvirt.DomainSetAutostartArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.SetAutostart(domRef(a.Dom), a.Autostart != 0)
	}).writes()
	t[procKey{r, remote.ProcDomainHasManagedSaveImage}] = call(func(_ *conn, a *libvirt.DomainHasManagedSaveImageArgs) (*libvirt.DomainHasManagedSaveImageRet, error) {
		_, err := s.drv.IsActive(domRef(a.Dom)) // the domain must exist
		return &libvirt.DomainHasManagedSaveImageRet{Result: 0}, err
	}).fast()
	t[procKey{r, remote.ProcDomainGetSecurityLabel}] = call(func(_ *conn, a *libvirt.DomainGetSecurityLabelArgs) (*libvirt.DomainGetSecurityLabelRet, error) {
		label, err := s.drv.SecurityLabel(domRef(a.Dom))
		return &libvirt.DomainGetSecurityLabelRet{Label: cstring(label)}, err
	}).fast()
}

func (s *Server) metadataHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcDomainSetMetadata}] = call(func(_ *conn, a *libvirt.DomainSetMetadataArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.SetMetadata(domRef(a.Dom), int(a.Type), optString(a.Metadata), optString(a.Key), optString(a.Uri), uint32(a.Flags))
	}).writes()
	t[procKey{r, remote.ProcDomainGetMetadata}] = call(func(_ *conn, a *libvirt.DomainGetMetadataArgs) (*libvirt.DomainGetMetadataRet, error) {
		uri := ""
		if u := optString(a.Uri); u != nil {
			uri = *u
		}
		v, err := s.drv.Metadata(domRef(a.Dom), int(a.Type), uri, uint32(a.Flags))
		return &libvirt.DomainGetMetadataRet{Metadata: v}, err
	}).fast()
}

// isReadOnly reports whether the connection may only query.
func (c *conn) isReadOnly() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readOnly
}
