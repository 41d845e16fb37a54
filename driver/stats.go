package driver

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/cgroups"
)

// Statistics of running domains, read from their cgroups: dominfo,
// dommemstat, domblkstat, cpu-stats.

// usage reads a running domain's cgroup figures. Call with dom.mu held.
func (dom *domain) usage() (*cgroups.Usage, error) {
	if dom.rt == nil {
		return nil, errorf(KindOperationInvalid, "domain is not running")
	}
	if dom.rt.group == nil {
		return nil, errorf(KindOperationFailed, "domain %s has no cgroup", dom.name)
	}
	u, err := dom.rt.group.Usage()
	if err != nil {
		return nil, errorf(KindOperationFailed, "read statistics of %s: %w", dom.name, err)
	}
	return &u, nil
}

// Memory statistic tags (virDomainMemoryStatTags).
const (
	MemStatMajorFault    = 2
	MemStatMinorFault    = 3
	MemStatUnused        = 4
	MemStatAvailable     = 5
	MemStatActualBalloon = 6
	MemStatRSS           = 7
	MemStatUsable        = 8
	MemStatLastUpdate    = 9
	MemStatDiskCaches    = 10
)

// MemoryStat is one memory statistic: a tag and its value (KiB, except
// for fault counts and the update time in seconds).
type MemoryStat struct {
	Tag   int32
	Value uint64
}

// MemoryStats returns a running domain's memory statistics, at most max
// of them. The container's memory is its cgroup's: "available" is the
// limit in force, "unused" what is left of it, "usable" that plus the
// page cache the kernel can reclaim. Swap is not reported under
// swap_in (libvirt's LXC driver does so, but swap_in counts pages read
// from swap, not swap in use).
func (d *Driver) MemoryStats(ref DomainRef, max uint32, flags uint32) ([]MemoryStat, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virDomainMemoryStats")
	}
	var out []MemoryStat
	err := d.snapshot(ref, func(dom *domain) error {
		u, err := dom.usage()
		if err != nil {
			return err
		}
		out = memoryStats(dom.live.Def, u)
		return nil
	})
	if uint32(len(out)) > max {
		out = out[:max]
	}
	return out, err
}

func memoryStats(def *libvirtxml.Domain, u *cgroups.Usage) []MemoryStat {
	avail := availableBytes(def, u)
	unused := sub(avail, u.MemoryUsage)
	usable := min(avail, unused+u.Cache)
	return []MemoryStat{
		{MemStatMajorFault, u.MajorFaults},
		{MemStatMinorFault, u.MinorFaults},
		{MemStatUnused, unused / 1024},
		{MemStatAvailable, avail / 1024},
		{MemStatActualBalloon, currentMemoryKiB(def)},
		{MemStatRSS, u.RSS / 1024},
		{MemStatUsable, usable / 1024},
		{MemStatLastUpdate, uint64(time.Now().Unix())},
		{MemStatDiskCaches, u.Cache / 1024},
	}
}

// availableBytes is the memory a container may use: its cgroup limit, or
// its current memory when the cgroup has none.
func availableBytes(def *libvirtxml.Domain, u *cgroups.Usage) uint64 {
	if u.MemoryLimit != 0 {
		return u.MemoryLimit
	}
	return currentMemoryKiB(def) * 1024
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// BlockStats are a block device's I/O counters (virDomainBlockStatsStruct);
// Errs is -1, as the kernel does not count errors per cgroup.
type BlockStats struct {
	RdReq, RdBytes, WrReq, WrBytes, Errs int64
}

// blockDev is a block device a domain uses: a <disk>, a block file
// system or the loop device of a file-backed one.
type blockDev struct {
	name, path   string // target (disk dev or mount point) and source
	major, minor uint32
}

// blockDevices lists a running domain's block devices. Call with dom.mu
// held.
func (dom *domain) blockDevices() []blockDev {
	var out []blockDev
	add := func(name, path, dev string) {
		if _, major, minor, err := deviceNumber(dev); err == nil {
			out = append(out, blockDev{name: name, path: path, major: major, minor: minor})
		}
	}
	devs := devices(dom.live.Def)
	for _, disk := range devs.Disks {
		if disk.Source != nil && disk.Source.Block != nil && disk.Target != nil {
			add(disk.Target.Dev, disk.Source.Block.Dev, disk.Source.Block.Dev)
		}
	}
	loop := 0
	for _, fs := range devs.Filesystems {
		switch {
		case fs.Source == nil || fs.Target == nil:
		case fs.Source.Block != nil:
			add(fs.Target.Dir, fs.Source.Block.Dev, fs.Source.Block.Dev)
		case fs.Source.File != nil:
			if loop < len(dom.rt.info.Loops) {
				add(fs.Target.Dir, fs.Source.File.File, dom.rt.info.Loops[loop])
			}
			loop++
		}
	}
	return out
}

// BlockStats returns the I/O counters of one of a running domain's block
// devices, named by its target or source, or with path "" the totals of
// the whole domain.
func (d *Driver) BlockStats(ref DomainRef, path string) (BlockStats, error) {
	var out BlockStats
	err := d.snapshot(ref, func(dom *domain) error {
		u, err := dom.usage()
		if err != nil {
			return err
		}
		var dev *blockDev
		if path != "" {
			if dev = findBlockDev(dom.blockDevices(), path); dev == nil {
				return errorf(KindInvalidArg, "invalid path: %s", path)
			}
		}
		out = blockTotals(u.Block, dev)
		return nil
	})
	return out, err
}

func findBlockDev(devs []blockDev, path string) *blockDev {
	for i := range devs {
		if devs[i].name == path || devs[i].path == path {
			return &devs[i]
		}
	}
	return nil
}

// blockTotals sums the counters of dev (or of every device when nil).
func blockTotals(rows []cgroups.DeviceIO, dev *blockDev) BlockStats {
	out := BlockStats{Errs: -1}
	for _, r := range rows {
		if dev != nil && (r.Major != uint64(dev.major) || r.Minor != uint64(dev.minor)) {
			continue
		}
		out.RdReq += int64(r.ReadOps)
		out.RdBytes += int64(r.ReadBytes)
		out.WrReq += int64(r.WriteOps)
		out.WrBytes += int64(r.WriteBytes)
	}
	return out
}

// BlockStatsParams returns BlockStats as libvirt's LXC driver names them
// for virDomainBlockStatsFlags.
func (d *Driver) BlockStatsParams(ref DomainRef, path string, flags uint32) ([]Param, error) {
	if flags&^TypedParamStringOkay != 0 {
		return nil, unsupportedFlags(flags, "virDomainBlockStatsFlags")
	}
	s, err := d.BlockStats(ref, path)
	if err != nil {
		return nil, err
	}
	return []Param{
		{"rd_bytes", s.RdBytes}, {"wr_bytes", s.WrBytes}, {"rd_operations", s.RdReq}, {"wr_operations", s.WrReq},
	}, nil
}

// TotalCPUStats returns a running domain's cpu_time, user_time and
// system_time in nanoseconds.
func (d *Driver) TotalCPUStats(ref DomainRef) ([]Param, error) {
	var out []Param
	err := d.snapshot(ref, func(dom *domain) error {
		u, err := dom.usage()
		if err != nil {
			return err
		}
		out = []Param{{"cpu_time", u.CPUTime}, {"user_time", u.CPUUser}, {"system_time", u.CPUSystem}}
		return nil
	})
	return out, err
}

// PerCPUStats returns a running domain's cpu_time on each host CPU, one
// entry per present CPU number (0 for CPUs that are not present or not
// counted, as on cgroup v2).
func (d *Driver) PerCPUStats(ref DomainRef) ([]uint64, error) {
	n, _, err := d.host.CPUMap()
	if err != nil {
		return nil, errorf(KindSystem, "read the host's CPUs: %w", err)
	}
	out := make([]uint64, n)
	err = d.snapshot(ref, func(dom *domain) error {
		u, err := dom.usage()
		if err != nil {
			return err
		}
		copy(out, u.PerCPU)
		return nil
	})
	return out, err
}

// interfaceCounters reads a host-side network device's counters, seen
// from the container: a veth's transmit is the container's receive.
func interfaceCounters(dev string, swap bool) (map[string]uint64, bool) {
	dir := filepath.Join("/sys/class/net", dev, "statistics")
	names := map[string]string{
		"rx.bytes": "rx_bytes", "rx.pkts": "rx_packets", "rx.errs": "rx_errors", "rx.drop": "rx_dropped",
		"tx.bytes": "tx_bytes", "tx.pkts": "tx_packets", "tx.errs": "tx_errors", "tx.drop": "tx_dropped",
	}
	out := map[string]uint64{}
	for key, file := range names {
		if swap {
			file = strings.NewReplacer("rx_", "tx_", "tx_", "rx_").Replace(file)
		}
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, false
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return nil, false
		}
		out[key] = v
	}
	return out, true
}
