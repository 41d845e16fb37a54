package xmlconf

import (
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// nativeMaxTTYs bounds lxc.tty.max; every tty becomes a console with its
// own host PTY.
const nativeMaxTTYs = 1024

func (s *nativeState) setTTYs(e nativeEntry) error {
	if e.value == "" {
		s.ttys = 0
		return nil
	}
	n, err := strconv.ParseUint(e.value, 10, 32)
	if err != nil {
		return e.errorf(ErrInvalidArg, "failed to parse tty count %q", e.value)
	}
	if n > nativeMaxTTYs {
		return e.errorf(ErrInvalidArg, "%d ttys requested, at most %d are supported", n, nativeMaxTTYs)
	}
	s.ttys = int(n)
	return nil
}

// buildConsoles gives one PTY console per tty. A container without ttys
// still gets one console: the driver cannot start a container without it.
func (s *nativeState) buildConsoles(def *libvirtxml.Domain) error {
	n := s.ttys
	if n == 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		port := uint(i)
		def.Devices.Consoles = append(def.Devices.Consoles, libvirtxml.DomainConsole{
			Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
			Target: &libvirtxml.DomainConsoleTarget{Type: "lxc", Port: &port},
		})
	}
	return nil
}

// nativeIDMap is one lxc.idmap line: "u|g NSID HOSTID RANGE".
type nativeIDMap struct {
	gid                 bool
	nsid, hostid, count uint
}

func (s *nativeState) addIDMap(e nativeEntry) error {
	if e.value == "" {
		s.idmaps = nil
		return nil
	}
	f := strings.Fields(e.value)
	if len(f) != 4 || (f[0] != "u" && f[0] != "g") {
		return e.errorf(ErrInvalidArg, "expected 'u|g NSID HOSTID RANGE', got %q", e.value)
	}
	var n [3]uint
	for i := range n {
		v, err := strconv.ParseUint(f[i+1], 10, 32)
		if err != nil {
			return e.errorf(ErrInvalidArg, "invalid id %q in %q", f[i+1], e.value)
		}
		n[i] = uint(v)
	}
	if n[2] == 0 {
		return e.errorf(ErrInvalidArg, "empty id range in %q", e.value)
	}
	s.idmaps = append(s.idmaps, nativeIDMap{gid: f[0] == "g", nsid: n[0], hostid: n[1], count: n[2]})
	return nil
}

// buildIDMap maps NSID, the id inside the container, to <start> and
// HOSTID to <target>, as LXC documents the fields (libvirt swaps them).
func (s *nativeState) buildIDMap(def *libvirtxml.Domain) error {
	if len(s.idmaps) == 0 {
		return nil
	}
	def.IDMap = &libvirtxml.DomainIDMap{}
	for _, m := range s.idmaps {
		r := libvirtxml.DomainIDMapRange{Start: m.nsid, Target: m.hostid, Count: m.count}
		if m.gid {
			def.IDMap.GIDs = append(def.IDMap.GIDs, r)
		} else {
			def.IDMap.UIDs = append(def.IDMap.UIDs, r)
		}
	}
	return nil
}

// nativeCap is one capability name of lxc.cap.drop or lxc.cap.keep.
type nativeCap struct {
	nativeEntry
	name string
}

func (s *nativeState) addCapDrop(e nativeEntry) error {
	if e.value == "" {
		s.capDrop = nil
		return nil
	}
	for _, c := range strings.Fields(e.value) {
		s.capDrop = append(s.capDrop, nativeCap{nativeEntry: e, name: c})
	}
	return nil
}

func (s *nativeState) addCapKeep(e nativeEntry) error {
	if e.value == "" {
		s.capKeep = nil
		return nil
	}
	for _, c := range strings.Fields(e.value) {
		s.capKeep = append(s.capKeep, nativeCap{nativeEntry: e, name: c})
	}
	return nil
}

// buildCaps turns lxc.cap.drop into the "allow" policy with those
// capabilities off, and lxc.cap.keep into the "deny" policy with those on.
func (s *nativeState) buildCaps(def *libvirtxml.Domain) error {
	caps := def.Features.Capabilities
	if len(s.capDrop) > 0 && len(s.capKeep) > 0 {
		e := s.capKeep[0].nativeEntry
		return e.errorf(ErrConfigUnsupported, "lxc.cap.drop and lxc.cap.keep are mutually exclusive")
	}
	list, state := s.capDrop, "off"
	if len(s.capKeep) > 0 {
		caps.Policy, list, state = "deny", s.capKeep, "on"
	}
	for _, c := range list {
		if state == "on" && c.name == "none" {
			continue
		}
		name, ok := nativeCapName(c.name)
		if !ok {
			s.warnings.add(c.nativeEntry, "unknown capability %q; ignored", c.name)
			continue
		}
		field := nativeCapField(caps, name)
		if field == nil {
			s.warnings.add(c.nativeEntry, "capability %s cannot be set in the domain XML; ignored", name)
			continue
		}
		*field = &libvirtxml.DomainFeatureCapability{State: state}
	}
	return nil
}

// nativeCapNumbers are the Linux capability numbers, which LXC accepts in
// place of names.
var nativeCapNumbers = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
	"setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
	"net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
	"sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
	"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
	"audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
	"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
}

// nativeCapName normalises an LXC capability ("sys_admin", "CAP_SYS_ADMIN"
// or "21") to its lower-case name without the cap_ prefix.
func nativeCapName(c string) (string, bool) {
	if n, err := strconv.Atoi(c); err == nil {
		if n >= 0 && n < len(nativeCapNumbers) {
			return nativeCapNumbers[n], true
		}
		return "", false
	}
	name := strings.TrimPrefix(strings.ToLower(c), "cap_")
	for _, known := range nativeCapNumbers {
		if known == name {
			return name, true
		}
	}
	return "", false
}

// nativeCapField returns the field of caps for a capability name, or nil
// for capabilities the domain XML does not know.
func nativeCapField(c *libvirtxml.DomainFeatureCapabilities, name string) **libvirtxml.DomainFeatureCapability {
	fields := map[string]**libvirtxml.DomainFeatureCapability{
		"audit_control": &c.AuditControl, "audit_write": &c.AuditWrite, "block_suspend": &c.BlockSuspend,
		"chown": &c.Chown, "dac_override": &c.DACOverride, "dac_read_search": &c.DACReadSearch,
		"fowner": &c.FOwner, "fsetid": &c.FSetID, "ipc_lock": &c.IPCLock, "ipc_owner": &c.IPCOwner,
		"kill": &c.Kill, "lease": &c.Lease, "linux_immutable": &c.LinuxImmutable,
		"mac_admin": &c.MACAdmin, "mac_override": &c.MACOverride, "mknod": &c.MkNod,
		"net_admin": &c.NetAdmin, "net_bind_service": &c.NetBindService, "net_broadcast": &c.NetBroadcast,
		"net_raw": &c.NetRaw, "setgid": &c.SetGID, "setfcap": &c.SetFCap, "setpcap": &c.SetPCap,
		"setuid": &c.SetUID, "sys_admin": &c.SysAdmin, "sys_boot": &c.SysBoot, "sys_chroot": &c.SysChRoot,
		"sys_module": &c.SysModule, "sys_nice": &c.SysNice, "sys_pacct": &c.SysPAcct,
		"sys_ptrace": &c.SysPTrace, "sys_rawio": &c.SysRawIO, "sys_resource": &c.SysResource,
		"sys_time": &c.SysTime, "sys_tty_config": &c.SysTTYCnofig, "syslog": &c.SysLog,
		"wake_alarm": &c.WakeAlarm,
	}
	return fields[name]
}

// nativeInit holds the init process keys.
type nativeInit struct {
	cmd, cwd, uid, gid nativeValue
	env                []nativeEntry
}

func (s *nativeState) setInitCmd(e nativeEntry) error {
	s.init.cmd = nativeValue{nativeEntry: e, set: e.value != ""}
	return nil
}

func (s *nativeState) setInitCwd(e nativeEntry) error {
	s.init.cwd = nativeValue{nativeEntry: e, set: e.value != ""}
	return nil
}

func (s *nativeState) setInitUID(e nativeEntry) error {
	return s.setInitID(&s.init.uid, e)
}

func (s *nativeState) setInitGID(e nativeEntry) error {
	return s.setInitID(&s.init.gid, e)
}

func (s *nativeState) setInitID(v *nativeValue, e nativeEntry) error {
	if e.value != "" {
		if _, err := strconv.ParseUint(e.value, 10, 32); err != nil {
			return e.errorf(ErrInvalidArg, "expected a numeric id, got %q", e.value)
		}
	}
	*v = nativeValue{nativeEntry: e, set: e.value != ""}
	return nil
}

func (s *nativeState) addEnv(e nativeEntry) error {
	if e.value == "" {
		s.init.env = nil
		return nil
	}
	s.init.env = append(s.init.env, e)
	return nil
}

// buildInit maps lxc.init.cmd (split at spaces, as LXC does), the
// environment, working directory and ids of init.
func (s *nativeState) buildInit(def *libvirtxml.Domain) error {
	in := s.init
	if in.cmd.set {
		if argv := nativeSplitCmd(in.cmd.value); len(argv) > 0 {
			def.OS.Init, def.OS.InitArgs = argv[0], argv[1:]
		}
	}
	for _, e := range in.env {
		name, value, ok := strings.Cut(e.value, "=")
		if !ok || !nativeEnvName(name) {
			s.warnings.add(e, "%q is not NAME=VALUE with a valid variable name; ignored", e.value)
			continue
		}
		def.OS.InitEnv = append(def.OS.InitEnv, libvirtxml.DomainOSInitEnv{Name: name, Value: value})
	}
	if in.cwd.set {
		def.OS.InitDir = in.cwd.value
	}
	if in.uid.set {
		def.OS.InitUser = in.uid.value
	}
	if in.gid.set {
		def.OS.InitGroup = in.gid.value
	}
	return nil
}

// nativeSplitCmd splits a command at spaces, as LXC 5 splits
// lxc.init.cmd (no quoting; tabs are part of a word).
func nativeSplitCmd(cmd string) []string {
	var argv []string
	for _, w := range strings.Split(cmd, " ") {
		if w != "" {
			argv = append(argv, w)
		}
	}
	return argv
}

// nativeEnvName reports whether n is a name libvirt's schema allows for
// <initenv>: [a-zA-Z_][a-zA-Z0-9_]*.
func nativeEnvName(n string) bool {
	for i, c := range n {
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return n != ""
}
