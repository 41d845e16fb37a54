package cgroups

import (
	"fmt"

	ocg "github.com/opencontainers/cgroups"
	devcfg "github.com/opencontainers/cgroups/devices/config"
)

// Resources are a domain's limits in cgroup terms. Zero values leave a
// setting alone; Unlimited removes a limit.
type Resources struct {
	MemoryLimit     int64 // bytes (memory.limit_in_bytes / memory.max)
	MemorySoftLimit int64 // bytes (memory.soft_limit_in_bytes / memory.low)
	// MemorySwapLimit is memory plus swap, as libvirt's swap_hard_limit
	// and cgroup v1's memory.memsw.limit_in_bytes count it.
	MemorySwapLimit int64

	CPUShares  uint64 // cpu.shares; on v2 written unchanged to cpu.weight, as libvirt does
	CPUPeriod  uint64 // microseconds
	CPUQuota   int64  // microseconds per period; Unlimited for none
	CPUSetCPUs string
	CPUSetMems string

	BlkioWeight  uint16
	BlkioDevices []BlkioDevice

	PidsMax int64 // Unlimited for none

	// Devices is the device access policy, applied in order after a
	// deny-all rule.
	Devices []DeviceRule

	Hugepages []HugepageLimit
}

// Unlimited removes a limit.
const Unlimited = -1

// BlkioDevice holds the per-device block I/O settings.
type BlkioDevice struct {
	Major, Minor int64
	Weight       uint16
	ReadBps      uint64
	WriteBps     uint64
	ReadIOPS     uint64
	WriteIOPS    uint64
}

// DeviceRule allows a device (Type 'c', 'b' or 'a' for all) by number,
// -1 standing for any, with Access drawn from "rwm".
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

// convert maps r to the library's resources for layout l.
func (r Resources) convert(l *Layout) (*ocg.Resources, error) {
	res := &ocg.Resources{
		Memory:            r.MemoryLimit,
		MemoryReservation: r.MemorySoftLimit,
		MemorySwap:        r.MemorySwapLimit,
		CpuPeriod:         r.CPUPeriod,
		CpuQuota:          r.CPUQuota,
		CpusetCpus:        r.CPUSetCPUs,
		CpusetMems:        r.CPUSetMems,
		BlkioWeight:       r.BlkioWeight,
	}
	if l.Mode == V2 {
		// libvirt writes <shares> to cpu.weight as it is and requires it
		// to be in cpu.weight's range; the library would convert it.
		if r.CPUShares != 0 && (r.CPUShares < 1 || r.CPUShares > 10000) {
			return nil, fmt.Errorf("cpu shares %d out of cpu.weight's range [1, 10000]", r.CPUShares)
		}
		res.CpuWeight = r.CPUShares
	} else {
		res.CpuShares = r.CPUShares
	}
	if r.PidsMax != 0 {
		v := r.PidsMax
		res.PidsLimit = &v
	}
	for _, d := range r.BlkioDevices {
		if d.Weight != 0 {
			res.BlkioWeightDevice = append(res.BlkioWeightDevice, ocg.NewWeightDevice(d.Major, d.Minor, d.Weight, 0))
		}
		add := func(list *[]*ocg.ThrottleDevice, v uint64) {
			if v != 0 {
				*list = append(*list, ocg.NewThrottleDevice(d.Major, d.Minor, v))
			}
		}
		add(&res.BlkioThrottleReadBpsDevice, d.ReadBps)
		add(&res.BlkioThrottleWriteBpsDevice, d.WriteBps)
		add(&res.BlkioThrottleReadIOPSDevice, d.ReadIOPS)
		add(&res.BlkioThrottleWriteIOPSDevice, d.WriteIOPS)
	}
	for _, h := range r.Hugepages {
		res.HugetlbLimit = append(res.HugetlbLimit, &ocg.HugepageLimit{Pagesize: h.PageSize, Limit: h.Limit})
	}
	if r.Devices == nil {
		res.SkipDevices = true
		return res, nil
	}
	res.Devices = append(res.Devices, &devcfg.Rule{Type: devcfg.WildcardDevice, Major: -1, Minor: -1, Permissions: "rwm", Allow: false})
	for _, d := range r.Devices {
		res.Devices = append(res.Devices, &devcfg.Rule{
			Type: devcfg.Type(d.Type), Major: d.Major, Minor: d.Minor,
			Permissions: devcfg.Permissions(d.Access), Allow: true,
		})
	}
	return res, nil
}

// setExtras writes what the library leaves out.
func (g *Group) setExtras(*ocg.Resources) error { return nil }
