package cgroups

import (
	"fmt"
	"strings"

	ocg "github.com/opencontainers/cgroups"
	devcfg "github.com/opencontainers/cgroups/devices/config"
)

// Resources are a domain's limits in cgroup terms. Zero values leave a
// setting alone; Unlimited removes a limit.
type Resources struct {
	MemoryLimit int64 // bytes (memory.limit_in_bytes / memory.max)
	// MemorySoftLimit is in bytes: memory.soft_limit_in_bytes, or on v2
	// memory.high, where libvirt writes it (the library would write
	// memory.low, a protection rather than a limit).
	MemorySoftLimit int64
	// MemorySwapLimit is memory plus swap, as libvirt's swap_hard_limit
	// and cgroup v1's memory.memsw.limit_in_bytes count it. On v2 the
	// memory limit is subtracted for memory.swap.max, so MemoryLimit must
	// be given with it.
	MemorySwapLimit int64

	CPUShares uint64 // cpu.shares; on v2 written unchanged to cpu.weight, as libvirt does
	// CPUPeriod is the CFS period in microseconds (cpu.cfs_period_us, or
	// cpu.max's second field on v2, whose quota is then kept).
	CPUPeriod uint64
	// CPUQuota is the CPU time in microseconds allowed per period, or
	// Unlimited for none (cpu.cfs_quota_us, or cpu.max's first field on
	// v2, whose period is then kept).
	CPUQuota   int64
	CPUSetCPUs string // cpuset.cpus, e.g. "0-3,6"
	CPUSetMems string // cpuset.mems, e.g. "0"

	// BlkioWeight is the group's block I/O weight, written as it is:
	// blkio.weight, or blkio.bfq.weight when the kernel has only BFQ's;
	// on v2 io.bfq.weight, or io.weight's default.
	BlkioWeight  uint16
	BlkioDevices []BlkioDevice

	PidsMax int64 // Unlimited for none

	// Devices is the device access policy, applied in order after a
	// deny-all rule.
	Devices []DeviceRule

	Hugepages []HugepageLimit

	// CountIO lists block devices whose I/O the group's statistics must
	// count (see countIO).
	CountIO []DeviceID
}

// DeviceID is a device number.
type DeviceID struct{ Major, Minor int64 }

// Unlimited removes a limit.
const Unlimited = -1

// BlkioDevice holds the per-device block I/O settings; zero leaves a
// setting alone.
type BlkioDevice struct {
	Major, Minor int64
	Weight       uint16 // the device's weight, in the file the group weight uses
	// ResetWeight removes the device's own weight (Weight zero), so that
	// the group weight applies to it again.
	ResetWeight bool
	ReadBps     uint64 // bytes per second
	WriteBps    uint64 // bytes per second
	ReadIOPS    uint64 // requests per second
	WriteIOPS   uint64 // requests per second
}

// DeviceRule allows a device (Type 'c', 'b' or 'a' for all) by number,
// -1 standing for any, with Access drawn from "rwm". A rule for 'a' is
// written as one for 'b' and one for 'c', as libvirt does: it grants
// Access on every device, not every access.
type DeviceRule struct {
	Type         byte
	Major, Minor int64
	Access       string
}

// HugepageLimit limits one huge page size ("2MB", "1GB") in bytes.
type HugepageLimit struct {
	PageSize string
	Limit    uint64
}

// convert maps r to the library's resources for layout l. It leaves out
// what setExtras writes instead: block I/O weights, cpu.max and
// memory.high on v2, and hugetlb limits that live in a hybrid host's
// unified hierarchy.
func (r Resources) convert(l *Layout) (*ocg.Resources, error) {
	if err := r.validate(l); err != nil {
		return nil, err
	}
	res := &ocg.Resources{
		Memory:     r.MemoryLimit,
		MemorySwap: r.MemorySwapLimit,
		CpusetCpus: r.CPUSetCPUs,
		CpusetMems: r.CPUSetMems,
	}
	if l.Mode == V2 {
		// libvirt writes <shares> to cpu.weight as it is; the library
		// would convert it.
		res.CpuWeight = r.CPUShares
	} else {
		res.MemoryReservation = r.MemorySoftLimit
		res.CpuShares, res.CpuPeriod, res.CpuQuota = r.CPUShares, r.CPUPeriod, r.CPUQuota
	}
	if r.PidsMax != 0 {
		v := r.PidsMax
		res.PidsLimit = &v
	}
	r.throttles(res, l)
	if !l.hugetlbInUnified() {
		for _, h := range r.Hugepages {
			res.HugetlbLimit = append(res.HugetlbLimit, &ocg.HugepageLimit{Pagesize: h.PageSize, Limit: h.Limit})
		}
	}
	res.Devices, res.SkipDevices = deviceRules(r.Devices), r.Devices == nil
	return res, nil
}

// validate refuses values no cgroup file would take.
func (r Resources) validate(l *Layout) error {
	if l.Mode == V2 && r.CPUShares != 0 && (r.CPUShares < 1 || r.CPUShares > 10000) {
		return fmt.Errorf("cpu shares %d out of cpu.weight's range [1, 10000]", r.CPUShares)
	}
	for name, v := range map[string]int64{
		"memory limit": r.MemoryLimit, "memory soft limit": r.MemorySoftLimit,
		"memory+swap limit": r.MemorySwapLimit, "cpu quota": r.CPUQuota, "pids limit": r.PidsMax,
	} {
		if v < Unlimited {
			return fmt.Errorf("invalid %s %d", name, v)
		}
	}
	for _, d := range r.Devices {
		if d.Type != 'a' && d.Type != 'b' && d.Type != 'c' {
			return fmt.Errorf("invalid device type %q", d.Type)
		}
		if d.Access == "" || strings.Trim(d.Access, "rwm") != "" {
			return fmt.Errorf("invalid device access %q", d.Access)
		}
	}
	return nil
}

// throttles adds r's per-device bandwidth and request limits to res. A
// zero limit on a listed device removes that limit: on v1 the kernel
// takes "MAJ:MIN 0" for that; v2 ignores 0, so setExtras writes "max".
func (r Resources) throttles(res *ocg.Resources, l *Layout) {
	for _, d := range r.BlkioDevices {
		add := func(list *[]*ocg.ThrottleDevice, v uint64) {
			if v != 0 || l.Mode != V2 {
				*list = append(*list, ocg.NewThrottleDevice(d.Major, d.Minor, v))
			}
		}
		add(&res.BlkioThrottleReadBpsDevice, d.ReadBps)
		add(&res.BlkioThrottleWriteBpsDevice, d.WriteBps)
		add(&res.BlkioThrottleReadIOPSDevice, d.ReadIOPS)
		add(&res.BlkioThrottleWriteIOPSDevice, d.WriteIOPS)
	}
}

// deviceRules is a deny-all rule followed by rules allowing each of
// rules. A rule for type 'a' becomes one for 'b' and one for 'c': to the
// library, as to the kernel's devices.allow, 'a' means every access to
// every device whatever access the rule names.
func deviceRules(rules []DeviceRule) []*devcfg.Rule {
	if rules == nil {
		return nil
	}
	out := []*devcfg.Rule{{Type: devcfg.WildcardDevice, Major: -1, Minor: -1, Permissions: "rwm", Allow: false}}
	for _, d := range rules {
		types := []devcfg.Type{devcfg.Type(d.Type)}
		if d.Type == 'a' {
			types = []devcfg.Type{devcfg.BlockDevice, devcfg.CharDevice}
		}
		for _, t := range types {
			out = append(out, &devcfg.Rule{
				Type: t, Major: d.Major, Minor: d.Minor,
				Permissions: devcfg.Permissions(d.Access), Allow: true,
			})
		}
	}
	return out
}
