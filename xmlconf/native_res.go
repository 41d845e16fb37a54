package xmlconf

import (
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// nativeResources are the cgroup limits of a configuration, from
// lxc.cgroup.* (cgroup v1 files) or lxc.cgroup2.* (unified files); the
// last assignment wins whichever name it uses.
type nativeResources struct {
	memLimit, memSoft, memSwap *uint64 // bytes; nil: unlimited
	shares                     *uint64
	quota                      *int64
	period                     *uint64
	cpus, mems                 string // formatted CPU and node lists
	blkioWeight                *uint64
	blkioDevs                  []*libvirtxml.DomainBlockIOTuneDevice
}

type nativeCgroupHandler func(r *nativeResources, e nativeEntry) error

// nativeCgroup1Keys are the lxc.cgroup.* files libvirt maps.
var nativeCgroup1Keys = map[string]nativeCgroupHandler{
	"memory.limit_in_bytes":            nativeSetMem(func(r *nativeResources) **uint64 { return &r.memLimit }),
	"memory.soft_limit_in_bytes":       nativeSetMem(func(r *nativeResources) **uint64 { return &r.memSoft }),
	"memory.memsw.limit_in_bytes":      nativeSetMem(func(r *nativeResources) **uint64 { return &r.memSwap }),
	"cpu.shares":                       nativeSetShares(0),
	"cpu.cfs_quota_us":                 nativeSetQuota,
	"cpu.cfs_period_us":                nativeSetPeriod,
	"cpuset.cpus":                      nativeSetCPUList(func(r *nativeResources) *string { return &r.cpus }),
	"cpuset.mems":                      nativeSetCPUList(func(r *nativeResources) *string { return &r.mems }),
	"blkio.weight":                     nativeSetBlkioWeight,
	"blkio.device_weight":              nativeSetBlkioDev(nativeDevWeight),
	"blkio.throttle.read_bps_device":   nativeSetBlkioDev(nativeDevReadBps),
	"blkio.throttle.write_bps_device":  nativeSetBlkioDev(nativeDevWriteBps),
	"blkio.throttle.read_iops_device":  nativeSetBlkioDev(nativeDevReadIops),
	"blkio.throttle.write_iops_device": nativeSetBlkioDev(nativeDevWriteIops),
}

// nativeCgroup2Keys are the lxc.cgroup2.* files libvirt's cgroup v2
// backend writes for the same settings: memory.max, memory.high and
// memory.swap.max for the hard, soft and swap limits, cpu.weight for the
// shares (without conversion), cpu.max, cpuset.*, io.weight and io.max.
var nativeCgroup2Keys = map[string]nativeCgroupHandler{
	"memory.max":      nativeSetMem(func(r *nativeResources) **uint64 { return &r.memLimit }),
	"memory.high":     nativeSetMem(func(r *nativeResources) **uint64 { return &r.memSoft }),
	"memory.swap.max": nativeSetMem(func(r *nativeResources) **uint64 { return &r.memSwap }),
	"cpu.weight":      nativeSetShares(10000),
	"cpu.max":         nativeSetCPUMax,
	"cpuset.cpus":     nativeSetCPUList(func(r *nativeResources) *string { return &r.cpus }),
	"cpuset.mems":     nativeSetCPUList(func(r *nativeResources) *string { return &r.mems }),
	"io.weight":       nativeSetIOWeight,
	"io.max":          nativeSetIOMax,
}

func (s *nativeState) setCgroup(e nativeEntry, file string, keys map[string]nativeCgroupHandler) error {
	h, ok := keys[file]
	if !ok {
		s.warnings.add(e, "no domain XML equivalent; ignored")
		return nil
	}
	return h(&s.res, e)
}

func nativeSetMem(field func(*nativeResources) **uint64) nativeCgroupHandler {
	return func(r *nativeResources, e nativeEntry) error {
		p := field(r)
		if e.value == "" || e.value == "-1" || e.value == "max" {
			*p = nil
			return nil
		}
		n, err := nativeSize(e.value)
		if err != nil {
			return e.errorf(ErrInvalidArg, "%v", err)
		}
		*p = &n
		return nil
	}
}

// nativeSetShares parses cpu.shares, or cpu.weight when max is set (libvirt
// writes <shares> to cpu.weight unchanged, so it reads back the same way).
func nativeSetShares(max uint64) nativeCgroupHandler {
	return func(r *nativeResources, e nativeEntry) error {
		if e.value == "" {
			r.shares = nil
			return nil
		}
		n, err := strconv.ParseUint(e.value, 10, 64)
		if err != nil || (max > 0 && (n < 1 || n > max)) {
			return e.errorf(ErrInvalidArg, "invalid CPU weight %q", e.value)
		}
		r.shares = &n
		return nil
	}
}

func nativeSetQuota(r *nativeResources, e nativeEntry) error {
	if e.value == "" {
		r.quota = nil
		return nil
	}
	n, err := strconv.ParseInt(e.value, 10, 64)
	if err != nil {
		return e.errorf(ErrInvalidArg, "failed to parse integer %q", e.value)
	}
	r.quota = &n
	return nil
}

func nativeSetPeriod(r *nativeResources, e nativeEntry) error {
	if e.value == "" {
		r.period = nil
		return nil
	}
	n, err := strconv.ParseUint(e.value, 10, 64)
	if err != nil {
		return e.errorf(ErrInvalidArg, "failed to parse integer %q", e.value)
	}
	r.period = &n
	return nil
}

// nativeSetCPUMax parses cpu.max, "QUOTA|max [PERIOD]"; "max" is the
// unlimited quota -1.
func nativeSetCPUMax(r *nativeResources, e nativeEntry) error {
	f := strings.Fields(e.value)
	if len(f) == 0 {
		r.quota, r.period = nil, nil
		return nil
	}
	if len(f) > 2 {
		return e.errorf(ErrInvalidArg, "expected 'QUOTA [PERIOD]', got %q", e.value)
	}
	quota := nativeEntry{line: e.line, key: e.key, value: f[0]}
	if f[0] == "max" {
		quota.value = "-1"
	}
	if err := nativeSetQuota(r, quota); err != nil {
		return err
	}
	if len(f) == 2 {
		return nativeSetPeriod(r, nativeEntry{line: e.line, key: e.key, value: f[1]})
	}
	return nil
}

func nativeSetCPUList(field func(*nativeResources) *string) nativeCgroupHandler {
	return func(r *nativeResources, e nativeEntry) error {
		if e.value == "" {
			*field(r) = ""
			return nil
		}
		list, err := nativeFormatBitmap(e.value)
		if err != nil {
			return e.errorf(ErrInvalidArg, "%v", err)
		}
		*field(r) = list
		return nil
	}
}

func nativeSetBlkioWeight(r *nativeResources, e nativeEntry) error {
	if e.value == "" {
		r.blkioWeight = nil
		return nil
	}
	n, err := strconv.ParseUint(e.value, 10, 32)
	if err != nil {
		return e.errorf(ErrInvalidArg, "failed to parse integer %q", e.value)
	}
	r.blkioWeight = &n
	return nil
}

// nativeDevField selects one value of a blkiotune device.
type nativeDevField struct {
	name string
	bits int
	get  func(*libvirtxml.DomainBlockIOTuneDevice) *uint
}

var (
	nativeDevWeight = nativeDevField{"weight", 32,
		func(d *libvirtxml.DomainBlockIOTuneDevice) *uint { return &d.Weight }}
	nativeDevReadBps = nativeDevField{"rbps", 64,
		func(d *libvirtxml.DomainBlockIOTuneDevice) *uint { return &d.ReadBytesSec }}
	nativeDevWriteBps = nativeDevField{"wbps", 64,
		func(d *libvirtxml.DomainBlockIOTuneDevice) *uint { return &d.WriteBytesSec }}
	nativeDevReadIops = nativeDevField{"riops", 32,
		func(d *libvirtxml.DomainBlockIOTuneDevice) *uint { return &d.ReadIopsSec }}
	nativeDevWriteIops = nativeDevField{"wiops", 32,
		func(d *libvirtxml.DomainBlockIOTuneDevice) *uint { return &d.WriteIopsSec }}
	nativeDevFields = []nativeDevField{nativeDevReadBps, nativeDevWriteBps, nativeDevReadIops, nativeDevWriteIops}
)

// nativeSetBlkioDev parses a v1 per-device file, "MAJ:MIN VALUE".
func nativeSetBlkioDev(f nativeDevField) nativeCgroupHandler {
	return func(r *nativeResources, e nativeEntry) error {
		if e.value == "" {
			for _, d := range r.blkioDevs {
				*f.get(d) = 0
			}
			return nil
		}
		parts := strings.Fields(e.value)
		if len(parts) != 2 {
			return e.errorf(ErrInvalidArg, "expected 'MAJOR:MINOR VALUE', got %q", e.value)
		}
		return r.setDev(e, parts[0], f, parts[1])
	}
}

// setDev sets one value of the device MAJ:MIN, adding the device
// /dev/block/MAJ:MIN on first use.
func (r *nativeResources) setDev(e nativeEntry, majmin string, f nativeDevField, value string) error {
	if !nativeMajMin(majmin) {
		return e.errorf(ErrInvalidArg, "invalid device number %q", majmin)
	}
	var n uint64
	if value != "max" {
		var err error
		if n, err = strconv.ParseUint(value, 10, f.bits); err != nil {
			return e.errorf(ErrInvalidArg, "invalid %s value %q", f.name, value)
		}
	}
	path := "/dev/block/" + majmin
	var dev *libvirtxml.DomainBlockIOTuneDevice
	for _, d := range r.blkioDevs {
		if d.Path == path {
			dev = d
		}
	}
	if dev == nil {
		dev = &libvirtxml.DomainBlockIOTuneDevice{Path: path}
		r.blkioDevs = append(r.blkioDevs, dev)
	}
	*f.get(dev) = uint(n)
	return nil
}

// nativeMajMin reports whether s is a device number, "MAJOR:MINOR".
func nativeMajMin(s string) bool {
	major, minor, ok := strings.Cut(s, ":")
	_, errMajor := strconv.ParseUint(major, 10, 32)
	_, errMinor := strconv.ParseUint(minor, 10, 32)
	return ok && errMajor == nil && errMinor == nil
}

// nativeSetIOWeight parses io.weight: "[default] WEIGHT" or "MAJ:MIN WEIGHT".
func nativeSetIOWeight(r *nativeResources, e nativeEntry) error {
	f := strings.Fields(e.value)
	switch {
	case len(f) == 0:
		r.blkioWeight = nil
		return nil
	case len(f) == 1:
		return nativeSetBlkioWeight(r, nativeEntry{line: e.line, key: e.key, value: f[0]})
	case len(f) == 2 && f[0] == "default":
		return nativeSetBlkioWeight(r, nativeEntry{line: e.line, key: e.key, value: f[1]})
	case len(f) == 2:
		return r.setDev(e, f[0], nativeDevWeight, f[1])
	}
	return e.errorf(ErrInvalidArg, "expected '[default|MAJOR:MINOR] WEIGHT', got %q", e.value)
}

// nativeSetIOMax parses io.max: "MAJ:MIN rbps=N wbps=N riops=N wiops=N",
// any of the four, "max" for no limit.
func nativeSetIOMax(r *nativeResources, e nativeEntry) error {
	f := strings.Fields(e.value)
	if len(f) == 0 {
		for _, d := range r.blkioDevs {
			for _, df := range nativeDevFields {
				*df.get(d) = 0
			}
		}
		return nil
	}
	if len(f) < 2 {
		return e.errorf(ErrInvalidArg, "expected 'MAJOR:MINOR KEY=VALUE...', got %q", e.value)
	}
	for _, kv := range f[1:] {
		k, v, _ := strings.Cut(kv, "=")
		field, ok := nativeDevFieldByName(k)
		if !ok {
			return e.errorf(ErrInvalidArg, "unknown io.max limit %q", kv)
		}
		if err := r.setDev(e, f[0], field, v); err != nil {
			return err
		}
	}
	return nil
}

func nativeDevFieldByName(name string) (nativeDevField, bool) {
	for _, f := range nativeDevFields {
		if f.name == name {
			return f, true
		}
	}
	return nativeDevField{}, false
}

// nativeUnlimitedKiB is libvirt's VIR_DOMAIN_MEMORY_PARAM_UNLIMITED.
const nativeUnlimitedKiB = 1<<53 - 1

// buildResources sets memory, memtune, cputune, the CPU and node sets and
// blkiotune. A memory limit is also the domain's memory, as in libvirt.
func (s *nativeState) buildResources(def *libvirtxml.Domain) error {
	r := &s.res
	if err := s.buildMemory(def); err != nil {
		return err
	}
	if r.shares != nil || r.quota != nil || r.period != nil {
		def.CPUTune = &libvirtxml.DomainCPUTune{}
		if r.shares != nil {
			def.CPUTune.Shares = &libvirtxml.DomainCPUTuneShares{Value: uint(*r.shares)}
		}
		if r.period != nil {
			def.CPUTune.Period = &libvirtxml.DomainCPUTunePeriod{Value: *r.period}
		}
		if r.quota != nil {
			def.CPUTune.Quota = &libvirtxml.DomainCPUTuneQuota{Value: *r.quota}
		}
	}
	def.VCPU.CPUSet = r.cpus
	if r.mems != "" {
		def.NUMATune = &libvirtxml.DomainNUMATune{Memory: &libvirtxml.DomainNUMATuneMemory{Mode: "strict", Nodeset: r.mems}}
	}
	if r.blkioWeight != nil || len(r.blkioDevs) > 0 {
		def.BlockIOTune = &libvirtxml.DomainBlockIOTune{}
		if r.blkioWeight != nil {
			def.BlockIOTune.Weight = uint(*r.blkioWeight)
		}
		for _, d := range r.blkioDevs {
			if *d != (libvirtxml.DomainBlockIOTuneDevice{Path: d.Path}) {
				def.BlockIOTune.Device = append(def.BlockIOTune.Device, *d)
			}
		}
	}
	return nil
}

func (s *nativeState) buildMemory(def *libvirtxml.Domain) error {
	r := &s.res
	kib := func(p *uint64) *libvirtxml.DomainMemoryTuneLimit {
		if p == nil || *p/1024 >= nativeUnlimitedKiB {
			return nil
		}
		return &libvirtxml.DomainMemoryTuneLimit{Value: *p / 1024, Unit: "KiB"}
	}
	hard, soft, swap := kib(r.memLimit), kib(r.memSoft), kib(r.memSwap)
	if hard != nil {
		if hard.Value == 0 {
			return errf(ErrInvalidArg, "lxc config: memory limit of %d bytes is below 1 KiB", *r.memLimit)
		}
		def.Memory.Value = uint(hard.Value)
		def.CurrentMemory.Value = uint(hard.Value)
	}
	if hard != nil || soft != nil || swap != nil {
		def.MemoryTune = &libvirtxml.DomainMemoryTune{HardLimit: hard, SoftLimit: soft, SwapHardLimit: swap}
	}
	return nil
}

// nativeMaxCPUs bounds CPU and node numbers (libvirt's
// VIR_DOMAIN_CPUMASK_LEN).
const nativeMaxCPUs = 16384

// nativeParseBitmap parses a CPU or node list as libvirt does ("0-3,^2,8").
func nativeParseBitmap(list string) ([]bool, error) {
	set := make([]bool, nativeMaxCPUs)
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		neg := strings.HasPrefix(item, "^")
		lo, hi, isRange := strings.Cut(strings.TrimPrefix(item, "^"), "-")
		if !isRange {
			hi = lo
		}
		a, errA := strconv.ParseUint(lo, 10, 16)
		b, errB := strconv.ParseUint(hi, 10, 16)
		if errA != nil || errB != nil || a > b || b >= nativeMaxCPUs || (neg && isRange) {
			return nil, errf(ErrInvalidArg, "invalid CPU list %q", list)
		}
		for i := a; i <= b; i++ {
			set[i] = !neg
		}
	}
	return set, nil
}

// nativeFormatBitmap normalises a CPU list to libvirt's form: ascending
// ranges of two or more as "a-b" ("1,2,5-7" becomes "1-2,5-7").
func nativeFormatBitmap(list string) (string, error) {
	set, err := nativeParseBitmap(list)
	if err != nil {
		return "", err
	}
	var parts []string
	for i := 0; i < len(set); i++ {
		if !set[i] {
			continue
		}
		j := i
		for j+1 < len(set) && set[j+1] {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(i)+"-"+strconv.Itoa(j))
		} else {
			parts = append(parts, strconv.Itoa(i))
		}
		i = j
	}
	if len(parts) == 0 {
		return "", errf(ErrInvalidArg, "CPU list %q selects nothing", list)
	}
	return strings.Join(parts, ","), nil
}
