package driver

import (
	"encoding/xml"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/cgroups"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// MetadataNS is the namespace of nsvirt's own per-domain settings in
// <metadata>:
//
//	<metadata>
//	  <nsvirt:limits xmlns:nsvirt='https://nsvirt.dev/xmlns/domain/1.0'>
//	    <nsvirt:pids max='512'/>
//	  </nsvirt:limits>
//	</metadata>
const MetadataNS = "https://nsvirt.dev/xmlns/domain/1.0"

// memoryUnlimitedKiB is VIR_DOMAIN_MEMORY_PARAM_UNLIMITED: memtune values
// at or above it mean "no limit".
const memoryUnlimitedKiB = 9007199254740991

// defaultDevices is libvirt's device allow-list for every container:
// null, zero, full, random, urandom, tty, ptmx, fuse, and every pty.
var defaultDevices = []cgroups.DeviceRule{
	{Type: 'c', Major: 1, Minor: 3, Access: "rwm"}, {Type: 'c', Major: 1, Minor: 5, Access: "rwm"},
	{Type: 'c', Major: 1, Minor: 7, Access: "rwm"}, {Type: 'c', Major: 1, Minor: 8, Access: "rwm"},
	{Type: 'c', Major: 1, Minor: 9, Access: "rwm"}, {Type: 'c', Major: 5, Minor: 0, Access: "rwm"},
	{Type: 'c', Major: 5, Minor: 2, Access: "rwm"}, {Type: 'c', Major: 10, Minor: 229, Access: "rwm"},
	{Type: 'c', Major: 136, Minor: -1, Access: "rwm"},
}

// resources maps a definition's tuning to cgroup settings.
func (d *Driver) resources(def *libvirtxml.Domain) (cgroups.Resources, error) {
	var r cgroups.Resources
	r.MemoryLimit = memoryLimit(def)
	if mt := def.MemoryTune; mt != nil {
		r.MemorySoftLimit = tuneBytes(mt.SoftLimit, 0)
		r.MemorySwapLimit = tuneBytes(mt.SwapHardLimit, 0)
	}
	if ct := def.CPUTune; ct != nil {
		if ct.Shares != nil {
			r.CPUShares = uint64(ct.Shares.Value)
		}
		if ct.Period != nil {
			r.CPUPeriod = ct.Period.Value
		}
		if ct.Quota != nil {
			r.CPUQuota = ct.Quota.Value
			if r.CPUQuota < 0 {
				r.CPUQuota = cgroups.Unlimited
			}
		}
	}
	if def.VCPU != nil {
		r.CPUSetCPUs = def.VCPU.CPUSet
	}
	if nt := def.NUMATune; nt != nil && nt.Memory != nil {
		r.CPUSetMems = nt.Memory.Nodeset
	}
	if err := blkioResources(def, &r); err != nil {
		return r, err
	}
	r.PidsMax = d.pidsMax(def)
	r.Hugepages = d.hugepageLimits(def, r.MemoryLimit)
	devs, err := deviceRules(def)
	if err != nil {
		return r, err
	}
	r.Devices = devs
	r.CountIO = blockIDs(devs)
	return r, nil
}

// memoryLimit is the memory limit in force, in bytes: the current
// allocation (<currentMemory>, which setmem changes), lowered to
// <memtune><hard_limit> when that is set lower. Both are limits the user
// asked for, so neither is silently ignored.
func memoryLimit(def *libvirtxml.Domain) int64 {
	limit := int64(currentMemoryKiB(def)) * 1024
	if mt := def.MemoryTune; mt != nil {
		if hard := tuneBytes(mt.HardLimit, limit); hard != cgroups.Unlimited && hard < limit {
			limit = hard
		}
	}
	return limit
}

// tuneBytes converts a memtune limit (KiB after parsing) to bytes, with
// libvirt's "unlimited" value mapped to no limit.
func tuneBytes(l *libvirtxml.DomainMemoryTuneLimit, def int64) int64 {
	if l == nil {
		return def
	}
	if l.Value >= memoryUnlimitedKiB {
		return cgroups.Unlimited
	}
	return int64(l.Value) * 1024
}

func blkioResources(def *libvirtxml.Domain, r *cgroups.Resources) error {
	bt := def.BlockIOTune
	if bt == nil {
		return nil
	}
	r.BlkioWeight = uint16(bt.Weight)
	for _, dev := range bt.Device {
		if err := checkBlockDevice(dev.Path); err != nil {
			return err
		}
		_, major, minor, _ := deviceNumber(dev.Path)
		r.BlkioDevices = append(r.BlkioDevices, cgroups.BlkioDevice{
			Major: int64(major), Minor: int64(minor), Weight: uint16(dev.Weight),
			ReadBps: uint64(dev.ReadBytesSec), WriteBps: uint64(dev.WriteBytesSec),
			ReadIOPS: uint64(dev.ReadIopsSec), WriteIOPS: uint64(dev.WriteIopsSec),
		})
	}
	return nil
}

// pidsMax returns the domain's task limit: <nsvirt:pids max='N'/> in its
// metadata, or the daemon's default.
func (d *Driver) pidsMax(def *libvirtxml.Domain) int64 {
	text, ok, err := xmlconf.MetadataElement(def, MetadataNS)
	if err != nil || !ok {
		return d.cfg.DefaultPidsMax
	}
	var limits struct {
		Pids struct {
			Max string `xml:"max,attr"`
		} `xml:"pids"`
	}
	if xml.Unmarshal([]byte(text), &limits) != nil {
		return d.cfg.DefaultPidsMax
	}
	switch v := strings.TrimSpace(limits.Pids.Max); v {
	case "":
		return d.cfg.DefaultPidsMax
	case "max", "unlimited":
		return cgroups.Unlimited
	default:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return d.cfg.DefaultPidsMax
}

// hugepageLimits limits each huge page size the domain is backed by to its
// memory, where the host has the hugetlb controller.
func (d *Driver) hugepageLimits(def *libvirtxml.Domain, limit int64) []cgroups.HugepageLimit {
	mb := def.MemoryBacking
	if mb == nil || mb.MemoryHugePages == nil || limit <= 0 || !d.layout.Has("hugetlb") {
		return nil
	}
	pages := mb.MemoryHugePages.Hugepages
	if len(pages) == 0 { // <hugepages/>: the default huge page size
		pages = []libvirtxml.DomainMemoryHugepage{{Size: uint(d.host.DefaultHugepageKiB()), Unit: "KiB"}}
	}
	var out []cgroups.HugepageLimit
	for _, p := range pages {
		kib := uint64(p.Size)
		switch strings.ToLower(p.Unit) {
		case "m", "mib":
			kib *= 1024
		case "g", "gib":
			kib *= 1024 * 1024
		}
		if name := hugepageName(kib); name != "" {
			out = append(out, cgroups.HugepageLimit{PageSize: name, Limit: uint64(limit)})
		}
	}
	return out
}

func hugepageName(kib uint64) string {
	switch {
	case kib >= 1<<20 && kib%(1<<20) == 0:
		return strconv.FormatUint(kib>>20, 10) + "GB"
	case kib >= 1<<10 && kib%(1<<10) == 0:
		return strconv.FormatUint(kib>>10, 10) + "MB"
	case kib > 0:
		return strconv.FormatUint(kib, 10) + "KB"
	}
	return ""
}

// deviceRules is libvirt's devices policy: the default allow-list, mknod
// on anything with <mknod state='on'/>, the domain's local block disks and
// block file systems, and its host devices.
func deviceRules(def *libvirtxml.Domain) ([]cgroups.DeviceRule, error) {
	rules := append([]cgroups.DeviceRule{}, defaultDevices...)
	if f := def.Features; f != nil && f.Capabilities != nil && capabilityStates(f.Capabilities)["mknod"] == "on" {
		rules = append(rules, cgroups.DeviceRule{Type: 'a', Major: -1, Minor: -1, Access: "m"})
	}
	add := func(path, access string) error {
		typ, major, minor, err := deviceNumber(path)
		if err != nil {
			return errorf(KindOperationFailed, "%w", err)
		}
		rules = append(rules, cgroups.DeviceRule{Type: typ, Major: int64(major), Minor: int64(minor), Access: access})
		return nil
	}
	for _, disk := range devices(def).Disks {
		if disk.Source != nil && disk.Source.Block != nil {
			if err := add(disk.Source.Block.Dev, accessFor(disk.ReadOnly != nil, true)); err != nil {
				return nil, err
			}
		}
	}
	for _, fs := range devices(def).Filesystems {
		if fs.Source != nil && fs.Source.Block != nil {
			if err := add(fs.Source.Block.Dev, accessFor(fs.ReadOnly != nil, false)); err != nil {
				return nil, err
			}
		}
	}
	for _, h := range devices(def).Hostdevs {
		switch {
		case h.CapsStorage != nil && h.CapsStorage.Source != nil:
			if err := add(h.CapsStorage.Source.Block, "rwm"); err != nil {
				return nil, err
			}
		case h.CapsMisc != nil && h.CapsMisc.Source != nil:
			if err := add(h.CapsMisc.Source.Char, "rwm"); err != nil {
				return nil, err
			}
		}
	}
	return rules, nil
}

func accessFor(readOnly, mknod bool) string {
	a := "rw"
	if readOnly {
		a = "r"
	}
	if mknod {
		a += "m"
	}
	return a
}

// loopRules allows a container the loop devices of its file-backed file
// systems, which its init helper mounts from inside the cgroup.
func loopRules(devs []string, readOnly func(int) bool) []cgroups.DeviceRule {
	var out []cgroups.DeviceRule
	for i, dev := range devs {
		typ, major, minor, err := deviceNumber(dev)
		if err != nil {
			continue
		}
		out = append(out, cgroups.DeviceRule{Type: typ, Major: int64(major), Minor: int64(minor), Access: accessFor(readOnly(i), false)})
	}
	return out
}

// blockIDs lists the block devices of rules, whose I/O a domain's
// statistics report.
func blockIDs(rules []cgroups.DeviceRule) []cgroups.DeviceID {
	var out []cgroups.DeviceID
	for _, r := range rules {
		if r.Type == 'b' && r.Major >= 0 && r.Minor >= 0 {
			out = append(out, cgroups.DeviceID{Major: r.Major, Minor: r.Minor})
		}
	}
	return out
}
