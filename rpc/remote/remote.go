package remote

import (
	"strconv"
	"strings"
)

// Program numbers and versions (remote_protocol.x, lxc_protocol.x,
// qemu_protocol.x, virkeepaliveprotocol.x).
const (
	RemoteProgram    uint32 = 0x20008086
	QEMUProgram      uint32 = 0x20008087
	LXCProgram       uint32 = 0x00068000
	KeepaliveProgram uint32 = 0x6b656570
	// ProtocolVersion is the version of every program.
	ProtocolVersion uint32 = 1
)

// Procedure is a procedure number within one program.
type Procedure int32

// Procedures of the LXC and KEEPALIVE programs.
const (
	LXCProcDomainOpenNamespace Procedure = 1
	KeepaliveProcPing          Procedure = 1
	KeepaliveProcPong          Procedure = 2
)

// Name returns the procedure's name within program prog, in go-libvirt's
// spelling ("DomainGetXMLDesc"), and whether the program defines it.
func Name(prog uint32, p Procedure) (string, bool) {
	var n string
	var ok bool
	switch prog {
	case RemoteProgram:
		n, ok = lookup(remoteNames[:], p)
	case QEMUProgram:
		n, ok = lookup(qemuNames[:], p)
	case LXCProgram:
		n, ok = "DomainLxcOpenNamespace", p == LXCProcDomainOpenNamespace
	case KeepaliveProgram:
		switch p {
		case KeepaliveProcPing:
			n, ok = "Ping", true
		case KeepaliveProcPong:
			n, ok = "Pong", true
		}
	}
	return n, ok
}

func lookup(names []string, p Procedure) (string, bool) {
	if p < 0 || int(p) >= len(names) || names[p] == "" {
		return "", false
	}
	return names[p], true
}

// apiFixups turn go-libvirt's camel case back into libvirt's spelling of
// the public API, where the two differ.
var apiFixups = strings.NewReplacer(
	"OsType", "OSType",
	"Uri", "URI",
	"Iothread", "IOThread",
	"Nwfilter", "NWFilter",
	"Dhcp", "DHCP",
	"MacString", "MACString",
	"Sev", "SEV",
	"Pmsuspend", "PMSuspend",
	"Pmwakeup", "PMWakeup",
	"PmSuspend", "PMSuspend",
	"PmWakeup", "PMWakeup",
	"QEMUDomain", "Domain",
)

// APIName returns the public libvirt function a procedure implements, as
// libvirt names it in "not supported" errors ("virDomainGetXMLDesc").
func APIName(prog uint32, p Procedure) string {
	n, ok := Name(prog, p)
	if !ok {
		return "procedure " + strconv.Itoa(int(p))
	}
	if prog == QEMUProgram {
		return "virDomainQemu" + strings.TrimPrefix(n, "Domain")
	}
	return "vir" + apiFixups.Replace(n)
}
