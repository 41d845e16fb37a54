package driver

import (
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/cgroups"
)

// Memory, scheduler and block I/O tuning (virsh memtune, schedinfo,
// blkiotune): on a running domain the live definition changes and the
// cgroup with it; with AffectConfig the persistent definition changes.

// Parameter names (VIR_DOMAIN_MEMORY_*, VIR_DOMAIN_SCHEDULER_*,
// VIR_DOMAIN_BLKIO_*).
const (
	ParamHardLimit     = "hard_limit"
	ParamSoftLimit     = "soft_limit"
	ParamSwapHardLimit = "swap_hard_limit"
	ParamCPUShares     = "cpu_shares"
	ParamVCPUPeriod    = "vcpu_period"
	ParamVCPUQuota     = "vcpu_quota"
	ParamWeight        = "weight"
	ParamDeviceWeight  = "device_weight"
	ParamReadIOPS      = "device_read_iops_sec"
	ParamWriteIOPS     = "device_write_iops_sec"
	ParamReadBps       = "device_read_bytes_sec"
	ParamWriteBps      = "device_write_bytes_sec"
)

// Kernel defaults reported for scheduler settings a definition leaves out.
const (
	defaultShares = 1024 // cpu.shares
	defaultWeight = 100  // cpu.weight, where v2 hosts keep <shares>
	defaultPeriod = 100000
)

// affectFlags are the modification-impact flags tuning calls accept.
const affectFlags = AffectLive | AffectConfig | TypedParamStringOkay

// tuningDef returns the definition a "get" call reads.
func (d *Driver) tuningDef(ref DomainRef, flags uint32, fn string, read func(def *libvirtxml.Domain, live bool) []Param) ([]Param, error) {
	if flags&^affectFlags != 0 {
		return nil, unsupportedFlags(flags, fn)
	}
	var out []Param
	err := d.snapshot(ref, func(dom *domain) error {
		live, _, err := dom.targets(flags &^ TypedParamStringOkay)
		if err != nil {
			return err
		}
		def := dom.persistent
		if live {
			def = dom.live
		}
		out = read(def.Def, live)
		return nil
	})
	return out, err
}

// MemoryParameters returns hard_limit, soft_limit and swap_hard_limit in
// KiB, with libvirt's "unlimited" value for limits that are not set. The
// live hard limit is the one in force (the memory size when no
// hard_limit is set).
func (d *Driver) MemoryParameters(ref DomainRef, flags uint32) ([]Param, error) {
	return d.tuningDef(ref, flags, "virDomainGetMemoryParameters", func(def *libvirtxml.Domain, live bool) []Param {
		mt := def.MemoryTune
		if mt == nil {
			mt = &libvirtxml.DomainMemoryTune{}
		}
		hard := limitKiB(mt.HardLimit)
		if live && hard == memoryUnlimitedKiB {
			hard = currentMemoryKiB(def)
		}
		return []Param{
			{ParamHardLimit, hard}, {ParamSoftLimit, limitKiB(mt.SoftLimit)}, {ParamSwapHardLimit, limitKiB(mt.SwapHardLimit)},
		}
	})
}

func limitKiB(l *libvirtxml.DomainMemoryTuneLimit) uint64 {
	if l == nil || l.Value >= memoryUnlimitedKiB {
		return memoryUnlimitedKiB
	}
	return l.Value
}

func tuneLimit(kib uint64) *libvirtxml.DomainMemoryTuneLimit {
	if kib >= memoryUnlimitedKiB {
		return nil
	}
	return &libvirtxml.DomainMemoryTuneLimit{Value: kib, Unit: "KiB"}
}

// SetMemoryParameters changes memory limits (KiB).
func (d *Driver) SetMemoryParameters(ref DomainRef, ps []Param, flags uint32) error {
	if flags&^(AffectLive|AffectConfig) != 0 {
		return unsupportedFlags(flags, "virDomainSetMemoryParameters")
	}
	if err := checkParams(ps, paramSpec{ParamHardLimit, uint64(0)}, paramSpec{ParamSoftLimit, uint64(0)},
		paramSpec{ParamSwapHardLimit, uint64(0)}); err != nil {
		return err
	}
	return d.modifyLive(ref, flags, func(def *libvirtxml.Domain, _ bool) error {
		mt := def.MemoryTune
		if mt == nil {
			mt = &libvirtxml.DomainMemoryTune{}
		}
		for _, p := range ps {
			v := p.Value.(uint64)
			switch p.Field {
			case ParamHardLimit:
				mt.HardLimit = tuneLimit(v)
			case ParamSoftLimit:
				mt.SoftLimit = tuneLimit(v)
			case ParamSwapHardLimit:
				mt.SwapHardLimit = tuneLimit(v)
			}
		}
		if limitKiB(mt.HardLimit) > limitKiB(mt.SwapHardLimit) {
			return errorf(KindInvalidArg, "memory hard_limit tunable value must be lower than or equal to swap_hard_limit")
		}
		if mt.HardLimit == nil && mt.SoftLimit == nil && mt.SwapHardLimit == nil && mt.MinGuarantee == nil {
			mt = nil
		}
		def.MemoryTune = mt
		return nil
	})
}

// SchedulerType returns "posix" and the number of scheduler parameters.
func (d *Driver) SchedulerType(ref DomainRef) (string, int, error) {
	return "posix", 3, d.snapshot(ref, func(*domain) error { return nil })
}

// SchedulerParameters returns cpu_shares, vcpu_period and vcpu_quota, on
// running and inactive domains alike.
func (d *Driver) SchedulerParameters(ref DomainRef, flags uint32) ([]Param, error) {
	shares := uint64(defaultShares)
	if d.layout.Mode == cgroups.V2 {
		shares = defaultWeight
	}
	return d.tuningDef(ref, flags, "virDomainGetSchedulerParametersFlags", func(def *libvirtxml.Domain, _ bool) []Param {
		shares, period, quota := shares, uint64(defaultPeriod), int64(-1)
		if ct := def.CPUTune; ct != nil {
			if ct.Shares != nil {
				shares = uint64(ct.Shares.Value)
			}
			if ct.Period != nil {
				period = ct.Period.Value
			}
			if ct.Quota != nil {
				quota = ct.Quota.Value
			}
		}
		return []Param{{ParamCPUShares, shares}, {ParamVCPUPeriod, period}, {ParamVCPUQuota, quota}}
	})
}

// SetSchedulerParameters changes cpu_shares, vcpu_period and vcpu_quota.
func (d *Driver) SetSchedulerParameters(ref DomainRef, ps []Param, flags uint32) error {
	if flags&^(AffectLive|AffectConfig) != 0 {
		return unsupportedFlags(flags, "virDomainSetSchedulerParametersFlags")
	}
	if err := checkParams(ps, paramSpec{ParamCPUShares, uint64(0)}, paramSpec{ParamVCPUPeriod, uint64(0)},
		paramSpec{ParamVCPUQuota, int64(0)}); err != nil {
		return err
	}
	minShares, maxShares := uint64(2), uint64(262144)
	if d.layout.Mode == cgroups.V2 { // cpu.weight's range
		minShares, maxShares = 1, 10000
	}
	for _, p := range ps {
		var err error
		switch p.Field {
		case ParamCPUShares:
			err = inRange(p.Field, int64(p.Value.(uint64)), int64(minShares), int64(maxShares))
		case ParamVCPUPeriod:
			err = inRange(p.Field, int64(p.Value.(uint64)), 1000, 1000000)
		case ParamVCPUQuota:
			if q := p.Value.(int64); q >= 0 {
				err = inRange(p.Field, q, 1000, 18446744073709551)
			}
		}
		if err != nil {
			return err
		}
	}
	return d.modifyLive(ref, flags, func(def *libvirtxml.Domain, _ bool) error {
		if def.CPUTune == nil {
			def.CPUTune = &libvirtxml.DomainCPUTune{}
		}
		ct := def.CPUTune
		for _, p := range ps {
			switch p.Field {
			case ParamCPUShares:
				ct.Shares = &libvirtxml.DomainCPUTuneShares{Value: uint(p.Value.(uint64))}
			case ParamVCPUPeriod:
				ct.Period = &libvirtxml.DomainCPUTunePeriod{Value: p.Value.(uint64)}
			case ParamVCPUQuota:
				ct.Quota = &libvirtxml.DomainCPUTuneQuota{Value: p.Value.(int64)}
			}
		}
		return nil
	})
}

func inRange(name string, v, lo, hi int64) error {
	if v < lo || v > hi {
		return errorf(KindInvalidArg, "value of '%s' is out of range [%d, %d]", name, lo, hi)
	}
	return nil
}

// blkioDeviceFields maps blkio device parameters to their definition
// fields.
var blkioDeviceFields = []string{ParamDeviceWeight, ParamReadIOPS, ParamWriteIOPS, ParamReadBps, ParamWriteBps}

func deviceField(dev *libvirtxml.DomainBlockIOTuneDevice, name string) *uint {
	switch name {
	case ParamDeviceWeight:
		return &dev.Weight
	case ParamReadIOPS:
		return &dev.ReadIopsSec
	case ParamWriteIOPS:
		return &dev.WriteIopsSec
	case ParamReadBps:
		return &dev.ReadBytesSec
	}
	return &dev.WriteBytesSec
}

// BlkioParameters returns the block I/O weight and the per-device
// settings as "path,value,path,value" strings.
func (d *Driver) BlkioParameters(ref DomainRef, flags uint32) ([]Param, error) {
	return d.tuningDef(ref, flags, "virDomainGetBlkioParameters", func(def *libvirtxml.Domain, _ bool) []Param {
		bt := def.BlockIOTune
		if bt == nil {
			bt = &libvirtxml.DomainBlockIOTune{}
		}
		out := []Param{{ParamWeight, uint32(bt.Weight)}}
		for _, name := range blkioDeviceFields {
			var parts []string
			for i := range bt.Device {
				if v := *deviceField(&bt.Device[i], name); v != 0 {
					parts = append(parts, bt.Device[i].Path, strconv.FormatUint(uint64(v), 10))
				}
			}
			out = append(out, Param{name, strings.Join(parts, ",")})
		}
		return out
	})
}

// SetBlkioParameters changes the block I/O weight and per-device settings.
func (d *Driver) SetBlkioParameters(ref DomainRef, ps []Param, flags uint32) error {
	if flags&^(AffectLive|AffectConfig) != 0 {
		return unsupportedFlags(flags, "virDomainSetBlkioParameters")
	}
	specs := []paramSpec{{ParamWeight, uint32(0)}}
	for _, f := range blkioDeviceFields {
		specs = append(specs, paramSpec{f, ""})
	}
	if err := checkParams(ps, specs...); err != nil {
		return err
	}
	for _, p := range ps {
		if w, ok := p.Value.(uint32); ok && (w < 100 || w > 1000) {
			return errorf(KindInvalidArg, "out of blkio weight range.")
		}
	}
	return d.modifyLive(ref, flags, func(def *libvirtxml.Domain, _ bool) error {
		if def.BlockIOTune == nil {
			def.BlockIOTune = &libvirtxml.DomainBlockIOTune{}
		}
		bt := def.BlockIOTune
		for _, p := range ps {
			if p.Field == ParamWeight {
				bt.Weight = uint(p.Value.(uint32))
				continue
			}
			if err := setBlkioDevices(bt, p.Field, p.Value.(string)); err != nil {
				return err
			}
		}
		live := bt.Device[:0]
		for _, dev := range bt.Device { // a device with nothing set is dropped
			if dev.Weight|dev.ReadBytesSec|dev.WriteBytesSec|dev.ReadIopsSec|dev.WriteIopsSec != 0 {
				live = append(live, dev)
			}
		}
		bt.Device = live
		return nil
	})
}

// setBlkioDevices applies "path,value,path,value" to the devices.
func setBlkioDevices(bt *libvirtxml.DomainBlockIOTune, field, spec string) error {
	if spec == "" {
		return nil
	}
	parts := strings.Split(spec, ",")
	if len(parts)%2 != 0 {
		return errorf(KindInvalidArg, "unable to parse blkio device '%s' '%s'", field, spec)
	}
	for i := 0; i < len(parts); i += 2 {
		path := parts[i]
		v, err := strconv.ParseUint(parts[i+1], 10, 32)
		if err != nil {
			return errorf(KindInvalidArg, "invalid value '%s' for parameter '%s' of device '%s'", parts[i+1], field, path)
		}
		if err := checkBlockDevice(path); err != nil {
			return err
		}
		if field == ParamDeviceWeight && v != 0 && (v < 100 || v > 1000) {
			return errorf(KindInvalidArg, "out of blkio weight range.")
		}
		dev := findBlkioDevice(bt, path)
		*deviceField(dev, field) = uint(v)
	}
	return nil
}

func findBlkioDevice(bt *libvirtxml.DomainBlockIOTune, path string) *libvirtxml.DomainBlockIOTuneDevice {
	for i := range bt.Device {
		if bt.Device[i].Path == path {
			return &bt.Device[i]
		}
	}
	bt.Device = append(bt.Device, libvirtxml.DomainBlockIOTuneDevice{Path: path})
	return &bt.Device[len(bt.Device)-1]
}

// checkBlockDevice refuses a blkiotune path that is not a block device,
// with libvirt's message.
func checkBlockDevice(path string) error {
	typ, _, _, err := deviceNumber(path)
	if err != nil {
		return errorf(KindInvalidArg, "%w", err)
	}
	if typ != 'b' {
		return errorf(KindInvalidArg, "Path '%s' must be a block device", path)
	}
	return nil
}
