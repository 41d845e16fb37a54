package driver

import (
	"fmt"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/cgroups"
)

// Statistics groups (virDomainStatsTypes) and the flags of
// virConnectGetAllDomainStats beyond the list filters.
const (
	StatsState     = 1
	StatsCPUTotal  = 2
	StatsBalloon   = 4
	StatsVCPU      = 8
	StatsInterface = 16
	StatsBlock     = 32
	statsSupported = StatsState | StatsCPUTotal | StatsBalloon | StatsVCPU | StatsInterface | StatsBlock

	StatsListFilters  = 1<<8 - 1 // ACTIVE … OTHER, as in ListDomains
	StatsNoWait       = 1 << 29
	StatsBacking      = 1 << 30
	StatsEnforceStats = 1 << 31
)

// DomainStats is one domain's record of virConnectGetAllDomainStats.
type DomainStats struct {
	Dom    DomainRef
	Params []Param
}

// AllDomainStats returns the statistics groups asked for (0: all that
// nsvirt supports) of the domains in refs, or of every domain that the
// list filters in flags select when refs is empty. Domains in refs that
// no longer exist are skipped. ENFORCE_STATS makes groups nsvirt does
// not support an error instead of being ignored.
func (d *Driver) AllDomainStats(refs []DomainRef, groups, flags uint32) ([]DomainStats, error) {
	if flags&^(StatsListFilters|StatsNoWait|StatsBacking|StatsEnforceStats) != 0 {
		return nil, unsupportedFlags(flags, "virConnectGetAllDomainStats")
	}
	if bad := groups &^ statsSupported; bad != 0 && flags&StatsEnforceStats != 0 {
		return nil, errorf(KindArgumentUnsupported, "Stats types bits 0x%x are not supported by this daemon", bad)
	}
	if groups &= statsSupported; groups == 0 {
		groups = statsSupported
	}
	doms, err := d.statsDomains(refs, flags&StatsListFilters)
	if err != nil {
		return nil, err
	}
	out := make([]DomainStats, 0, len(doms))
	now := uint64(time.Now().Unix())
	for _, dom := range doms {
		dom.mu.Lock()
		if dom.persistent != nil || dom.live != nil {
			out = append(out, DomainStats{Dom: dom.refLocked(), Params: dom.stats(groups, now)})
		}
		dom.mu.Unlock()
	}
	return out, nil
}

// statsDomains resolves refs, or lists the domains the filters select.
func (d *Driver) statsDomains(refs []DomainRef, filters uint32) ([]*domain, error) {
	var out []*domain
	if len(refs) == 0 {
		listed, err := d.ListDomains(filters)
		if err != nil {
			return nil, err
		}
		refs = listed
	}
	for _, ref := range refs {
		dom, err := d.find(ref)
		if err != nil {
			continue
		}
		dom.mu.Lock()
		ok := dom.matches(filters)
		dom.mu.Unlock()
		if ok {
			out = append(out, dom)
		}
	}
	return out, nil
}

// stats collects one domain's groups. Call with dom.mu held.
func (dom *domain) stats(groups uint32, now uint64) []Param {
	def := dom.def().Def
	var u *cgroups.Usage
	if dom.rt != nil && dom.rt.group != nil && groups&(StatsCPUTotal|StatsBalloon|StatsBlock) != 0 {
		if v, err := dom.rt.group.Usage(); err == nil { // a container ending right now just has no figures
			u = &v
		}
	}
	ps := make([]Param, 0, 24)
	if groups&StatsState != 0 {
		ps = append(ps, Param{"state.state", int32(dom.state)}, Param{"state.reason", int32(dom.reason)})
	}
	if groups&StatsCPUTotal != 0 && u != nil {
		ps = append(ps, Param{"cpu.time", u.CPUTime}, Param{"cpu.user", u.CPUUser}, Param{"cpu.system", u.CPUSystem})
	}
	if groups&StatsBalloon != 0 {
		ps = append(ps, balloonStats(def, u, now)...)
	}
	if groups&StatsVCPU != 0 {
		ps = append(ps, Param{"vcpu.current", uint32(vcpus(def))}, Param{"vcpu.maximum", uint32(maxVCPUs(def))})
	}
	if groups&StatsInterface != 0 {
		ps = append(ps, interfaceStats(def, dom.rt != nil)...)
	}
	if groups&StatsBlock != 0 {
		ps = append(ps, dom.blockStats(u)...)
	}
	return ps
}

func maxVCPUs(def *libvirtxml.Domain) int {
	if def.VCPU == nil || def.VCPU.Value == 0 {
		return 1
	}
	return int(def.VCPU.Value)
}

// balloonStats is the balloon group: current and maximum memory, and for a
// running domain the memory statistics of dommemstat.
func balloonStats(def *libvirtxml.Domain, u *cgroups.Usage, now uint64) []Param {
	ps := []Param{{"balloon.current", currentMemoryKiB(def)}, {"balloon.maximum", memoryKiB(def)}}
	if u == nil {
		return ps
	}
	names := map[int32]string{
		MemStatMajorFault: "balloon.major_fault", MemStatMinorFault: "balloon.minor_fault",
		MemStatUnused: "balloon.unused", MemStatAvailable: "balloon.available", MemStatRSS: "balloon.rss",
		MemStatUsable: "balloon.usable", MemStatDiskCaches: "balloon.disk_caches",
	}
	for _, s := range memoryStats(def, u) {
		if name, ok := names[s.Tag]; ok {
			ps = append(ps, Param{name, s.Value})
		}
	}
	return append(ps, Param{"balloon.last-update", now})
}

// interfaceStats is the interface group: every interface with its host
// device's counters, seen from the container.
func interfaceStats(def *libvirtxml.Domain, running bool) []Param {
	if !running {
		return nil
	}
	ifaces := devices(def).Interfaces
	ps := []Param{{"net.count", uint32(len(ifaces))}}
	for i, ifc := range ifaces {
		if ifc.Target == nil || ifc.Target.Dev == "" {
			continue
		}
		prefix := fmt.Sprintf("net.%d.", i)
		ps = append(ps, Param{prefix + "name", ifc.Target.Dev})
		counters, ok := interfaceCounters(ifc.Target.Dev, ifc.Source == nil || ifc.Source.Direct == nil)
		if !ok {
			continue
		}
		for _, key := range []string{"rx.bytes", "rx.pkts", "rx.errs", "rx.drop", "tx.bytes", "tx.pkts", "tx.errs", "tx.drop"} {
			ps = append(ps, Param{prefix + key, counters[key]})
		}
	}
	return ps
}

// blockStats is the block group: each block device with its counters.
func (dom *domain) blockStats(u *cgroups.Usage) []Param {
	if dom.rt == nil {
		return nil
	}
	devs := dom.blockDevices()
	ps := []Param{{"block.count", uint32(len(devs))}}
	for i := range devs {
		prefix := fmt.Sprintf("block.%d.", i)
		ps = append(ps, Param{prefix + "name", devs[i].name}, Param{prefix + "path", devs[i].path})
		if u == nil {
			continue
		}
		s := blockTotals(u.Block, &devs[i])
		ps = append(ps, Param{prefix + "rd.reqs", uint64(s.RdReq)}, Param{prefix + "rd.bytes", uint64(s.RdBytes)},
			Param{prefix + "wr.reqs", uint64(s.WrReq)}, Param{prefix + "wr.bytes", uint64(s.WrBytes)})
	}
	return ps
}
