package xmlconf

import (
	"math"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// nativeCapOrder lists the capabilities of the domain XML in libvirt's
// order.
var nativeCapOrder = []string{
	"audit_control", "audit_write", "block_suspend", "chown", "dac_override", "dac_read_search",
	"fowner", "fsetid", "ipc_lock", "ipc_owner", "kill", "lease", "linux_immutable", "mac_admin",
	"mac_override", "mknod", "net_admin", "net_bind_service", "net_broadcast", "net_raw", "setgid",
	"setfcap", "setpcap", "setuid", "sys_admin", "sys_boot", "sys_chroot", "sys_module", "sys_nice",
	"sys_pacct", "sys_ptrace", "sys_rawio", "sys_resource", "sys_time", "sys_tty_config", "syslog",
	"wake_alarm",
}

// nativeDefaultDrops are the capabilities libvirt's "default" policy drops
// unless they are turned on (CAP_SYS_BOOT is kept on kernels that support
// reboot in a PID namespace, which all current kernels do).
var nativeDefaultDrops = map[string]bool{
	"sys_module": true, "sys_time": true, "mknod": true, "audit_control": true, "mac_admin": true,
}

// writeCaps writes the capability set the policy gives: lxc.cap.drop for
// "allow" and "default", lxc.cap.keep for "deny".
func (w *nativeWriter) writeCaps() error {
	caps := &libvirtxml.DomainFeatureCapabilities{}
	if w.def.Features != nil && w.def.Features.Capabilities != nil {
		caps = w.def.Features.Capabilities
	}
	var drop, keep []string
	for _, name := range nativeCapOrder {
		state := ""
		if f := nativeCapField(caps, name); *f != nil {
			state = (*f).State
		}
		switch {
		case caps.Policy == "deny" && state == "on":
			keep = append(keep, name)
		case caps.Policy == "deny":
		case state == "off", caps.Policy != "allow" && nativeDefaultDrops[name] && state != "on":
			drop = append(drop, name)
		}
	}
	switch {
	case caps.Policy == "deny" && len(keep) == 0:
		return w.set("lxc.cap.keep", "none")
	case caps.Policy == "deny":
		return w.set("lxc.cap.keep", strings.Join(keep, " "))
	case len(drop) > 0:
		return w.set("lxc.cap.drop", strings.Join(drop, " "))
	}
	return nil
}

// nativeBytes converts a libvirt size with unit (KiB when none) to bytes.
func nativeBytes(value uint64, unit string) (uint64, bool) {
	scale, ok := nativeUnitScale(unit, 1024)
	if !ok || value > math.MaxUint64/scale {
		return 0, false
	}
	return value * scale, true
}

// writeMemory writes the cgroup v2 memory files as libvirt sets them:
// memory.max from <memory>, replaced by <hard_limit>; memory.high from
// <soft_limit>; memory.swap.max from <swap_hard_limit>.
func (w *nativeWriter) writeMemory() error {
	var limit *libvirtxml.DomainMemoryTuneLimit
	if m := w.def.Memory; m != nil && m.Value > 0 {
		limit = &libvirtxml.DomainMemoryTuneLimit{Value: uint64(m.Value), Unit: m.Unit}
	}
	var soft, swap *libvirtxml.DomainMemoryTuneLimit
	if mt := w.def.MemoryTune; mt != nil {
		if mt.HardLimit != nil {
			limit = mt.HardLimit
		}
		soft, swap = mt.SoftLimit, mt.SwapHardLimit
		if mt.MinGuarantee != nil {
			w.note("<min_guarantee> has no LXC equivalent; not converted")
		}
	}
	for _, f := range []struct {
		file  string
		limit *libvirtxml.DomainMemoryTuneLimit
	}{{"memory.max", limit}, {"memory.high", soft}, {"memory.swap.max", swap}} {
		if err := w.writeMemLimit(f.file, f.limit); err != nil {
			return err
		}
	}
	return nil
}

func (w *nativeWriter) writeMemLimit(file string, l *libvirtxml.DomainMemoryTuneLimit) error {
	if l == nil {
		return nil
	}
	bytes, ok := nativeBytes(l.Value, l.Unit)
	switch {
	case !ok && l.Unit != "" && !nativeKnownUnit(l.Unit):
		return errf(ErrConfigUnsupported, "lxc config: unknown memory unit %q", l.Unit)
	case !ok || bytes/1024 >= nativeUnlimitedKiB:
		return w.set("lxc.cgroup2."+file, "max")
	}
	return w.set("lxc.cgroup2."+file, strconv.FormatUint(bytes, 10))
}

func nativeKnownUnit(unit string) bool {
	_, ok := nativeUnitScale(unit, 1)
	return ok
}

// writeCPU writes cpu.weight (libvirt writes <shares> unchanged, within
// cgroup v2's 1-10000), cpu.max ("QUOTA PERIOD", "max" for no quota) and
// the CPU and memory node sets.
func (w *nativeWriter) writeCPU() error {
	if err := w.writeCPUTune(); err != nil {
		return err
	}
	if v := w.def.VCPU; v != nil && v.Placement == "auto" {
		w.note("<vcpu placement='auto'> (numad) has no LXC equivalent; not converted")
	} else if v != nil && v.CPUSet != "" {
		if err := w.writeCPUList("cpuset.cpus", v.CPUSet); err != nil {
			return err
		}
	}
	nt := w.def.NUMATune
	if nt == nil {
		return nil
	}
	if len(nt.MemNodes) > 0 {
		w.note("<numatune><memnode> has no LXC equivalent; not converted")
	}
	if nt.Memory != nil && nt.Memory.Nodeset != "" {
		return w.writeCPUList("cpuset.mems", nt.Memory.Nodeset)
	}
	return nil
}

func (w *nativeWriter) writeCPUTune() error {
	ct := w.def.CPUTune
	if ct == nil {
		return nil
	}
	if s := ct.Shares; s != nil {
		if s.Value < 1 || s.Value > 10000 {
			w.note("<shares>%d</shares> is outside cgroup v2's cpu.weight range 1-10000; not converted", s.Value)
		} else if err := w.set("lxc.cgroup2.cpu.weight", strconv.FormatUint(uint64(s.Value), 10)); err != nil {
			return err
		}
	}
	if ct.Quota == nil && ct.Period == nil {
		return nil
	}
	quota, period := "max", uint64(100000)
	if ct.Quota != nil && ct.Quota.Value > 0 {
		quota = strconv.FormatInt(ct.Quota.Value, 10)
	}
	if ct.Period != nil && ct.Period.Value > 0 {
		period = ct.Period.Value
	}
	return w.set("lxc.cgroup2.cpu.max", quota+" "+strconv.FormatUint(period, 10))
}

func (w *nativeWriter) writeCPUList(file, list string) error {
	norm, err := nativeFormatBitmap(list)
	if err != nil {
		return errf(ErrConfigUnsupported, "lxc config: %s: %v", file, err)
	}
	return w.set("lxc.cgroup2."+file, norm)
}

// writeBlkio writes io.weight ("default W", and "MAJ:MIN W" per device)
// and io.max. Devices other than /dev/block/MAJ:MIN are noted: their
// numbers are only known on the host.
func (w *nativeWriter) writeBlkio() error {
	bt := w.def.BlockIOTune
	if bt == nil {
		return nil
	}
	if bt.Weight > 0 {
		if err := w.set("lxc.cgroup2.io.weight", "default "+strconv.FormatUint(uint64(bt.Weight), 10)); err != nil {
			return err
		}
	}
	for _, d := range bt.Device {
		majmin, ok := strings.CutPrefix(d.Path, "/dev/block/")
		if !ok || !nativeMajMin(majmin) {
			w.note("<blkiotune> device %s: LXC needs its MAJOR:MINOR numbers (use /dev/block/MAJ:MIN); not converted", d.Path)
			continue
		}
		if err := w.writeBlkioDevice(majmin, d); err != nil {
			return err
		}
	}
	return nil
}

func (w *nativeWriter) writeBlkioDevice(majmin string, d libvirtxml.DomainBlockIOTuneDevice) error {
	if d.Weight > 0 {
		if err := w.set("lxc.cgroup2.io.weight", majmin+" "+strconv.FormatUint(uint64(d.Weight), 10)); err != nil {
			return err
		}
	}
	limits := []string{majmin}
	for _, l := range []struct {
		key   string
		value uint
	}{{"rbps", d.ReadBytesSec}, {"wbps", d.WriteBytesSec}, {"riops", d.ReadIopsSec}, {"wiops", d.WriteIopsSec}} {
		if l.value > 0 {
			limits = append(limits, l.key+"="+strconv.FormatUint(uint64(l.value), 10))
		}
	}
	if len(limits) == 1 {
		return nil
	}
	return w.set("lxc.cgroup2.io.max", strings.Join(limits, " "))
}
