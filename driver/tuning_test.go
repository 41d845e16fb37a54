package driver

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/cgroups"
)

func paramMap(ps []Param) map[string]any {
	m := map[string]any{}
	for _, p := range ps {
		m[p.Field] = p.Value
	}
	return m
}

// blockDevice finds a block device node on this machine, for settings
// that name one.
func blockDevice(t *testing.T) string {
	t.Helper()
	links, _ := filepath.Glob("/sys/dev/block/*")
	for _, l := range links {
		target, err := os.Readlink(l)
		if err != nil {
			continue
		}
		dev := "/dev/" + filepath.Base(target)
		if fi, err := os.Stat(dev); err == nil && fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0 {
			return dev
		}
	}
	t.Skip("no block device node on this machine for the blkio device settings")
	return ""
}

func TestSchedulerParametersOfInactiveDomain(t *testing.T) {
	td := newTestDriver(t)
	ref, _ := td.DefineXML(domainXML("c1", uuid1), 0)
	ps, err := td.SchedulerParameters(ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{ParamCPUShares: uint64(defaultShares), ParamVCPUPeriod: uint64(defaultPeriod), ParamVCPUQuota: int64(-1)}
	if td.layout.Mode == cgroups.V2 {
		want[ParamCPUShares] = uint64(100)
	}
	if got := paramMap(ps); !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults %v, want %v", got, want)
	}
	set := []Param{{ParamCPUShares, uint64(2048)}, {ParamVCPUQuota, int64(50000)}}
	if err := td.SetSchedulerParameters(ref, set, AffectCurrent); err != nil {
		t.Fatal(err)
	}
	td.restart(t)
	ps, _ = td.SchedulerParameters(ref, AffectConfig)
	if m := paramMap(ps); m[ParamCPUShares] != uint64(2048) || m[ParamVCPUQuota] != int64(50000) {
		t.Fatalf("after restart %v", m)
	}
	x, _ := td.XMLDesc(ref, 0)
	if !strings.Contains(x, "<cputune>\n    <shares>2048</shares>\n    <quota>50000</quota>\n  </cputune>") {
		t.Errorf("definition:\n%s", x)
	}
}

func TestTuningRefusesBadInput(t *testing.T) {
	td := newTestDriver(t)
	ref, _ := td.DefineXML(domainXML("c1", uuid1), 0)
	before, _ := td.XMLDesc(ref, 0)
	cases := []struct {
		name string
		err  error
		kind Kind
	}{
		{"unknown parameter", td.SetSchedulerParameters(ref, []Param{{"bogus", uint64(1)}}, 0), KindArgumentUnsupported},
		{"wrong type", td.SetSchedulerParameters(ref, []Param{{ParamCPUShares, "2"}}, 0), KindInvalidArg},
		{"shares too small", td.SetSchedulerParameters(ref, []Param{{ParamCPUShares, uint64(1)}}, 0), KindInvalidArg},
		{"period too small", td.SetSchedulerParameters(ref, []Param{{ParamVCPUPeriod, uint64(10)}}, 0), KindInvalidArg},
		{"quota too small", td.SetSchedulerParameters(ref, []Param{{ParamVCPUQuota, int64(10)}}, 0), KindInvalidArg},
		{"live on inactive", td.SetSchedulerParameters(ref, []Param{{ParamCPUShares, uint64(100)}}, AffectLive), KindOperationInvalid},
		{"hard above swap", td.SetMemoryParameters(ref, []Param{{ParamHardLimit, uint64(2048)}, {ParamSwapHardLimit, uint64(1024)}}, 0), KindInvalidArg},
		{"memory flags", td.SetMemoryParameters(ref, []Param{{ParamHardLimit, uint64(2048)}}, 1<<10), KindInvalidArg},
		{"blkio weight", td.SetBlkioParameters(ref, []Param{{ParamWeight, uint32(5)}}, 0), KindInvalidArg},
		{"blkio device", td.SetBlkioParameters(ref, []Param{{ParamDeviceWeight, "/nonexistent,200"}}, 0), KindInvalidArg},
		{"blkio odd list", td.SetBlkioParameters(ref, []Param{{ParamReadBps, "/dev/null"}}, 0), KindInvalidArg},
		{"blkio char device", td.SetBlkioParameters(ref, []Param{{ParamReadBps, "/dev/null,100"}}, 0), KindInvalidArg},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if k := KindOf(c.err); k != c.kind {
			t.Errorf("%s: kind %v, want %v (%v)", c.name, k, c.kind, c.err)
		}
	}
	if after, _ := td.XMLDesc(ref, 0); after != before {
		t.Errorf("refused changes altered the definition:\n%s", after)
	}
}

func TestMemoryAndBlkioParameters(t *testing.T) {
	td := newTestDriver(t)
	ref, _ := td.DefineXML(domainXML("c1", uuid1), 0)
	ps, _ := td.MemoryParameters(ref, 0)
	unlimited := uint64(memoryUnlimitedKiB)
	if m := paramMap(ps); m[ParamHardLimit] != unlimited || m[ParamSoftLimit] != unlimited || m[ParamSwapHardLimit] != unlimited {
		t.Fatalf("memory defaults %v", m)
	}
	if err := td.SetMemoryParameters(ref, []Param{{ParamHardLimit, uint64(32768)}, {ParamSoftLimit, uint64(16384)}}, AffectConfig); err != nil {
		t.Fatal(err)
	}
	ps, _ = td.MemoryParameters(ref, 0)
	if m := paramMap(ps); m[ParamHardLimit] != uint64(32768) || m[ParamSoftLimit] != uint64(16384) {
		t.Fatalf("memory %v", m)
	}
	// "unlimited" removes a limit again.
	td.SetMemoryParameters(ref, []Param{{ParamHardLimit, unlimited}, {ParamSoftLimit, unlimited}}, 0)
	if x, _ := td.XMLDesc(ref, 0); strings.Contains(x, "memtune") {
		t.Errorf("unlimited limits left <memtune>:\n%s", x)
	}

	dev := blockDevice(t)
	set := []Param{{ParamWeight, uint32(600)}, {ParamDeviceWeight, dev + ",300"}, {ParamWriteIOPS, dev + ",50"}}
	if err := td.SetBlkioParameters(ref, set, 0); err != nil {
		t.Fatal(err)
	}
	ps, _ = td.BlkioParameters(ref, 0)
	m := paramMap(ps)
	if m[ParamWeight] != uint32(600) || m[ParamDeviceWeight] != dev+",300" || m[ParamWriteIOPS] != dev+",50" || m[ParamReadBps] != "" {
		t.Fatalf("blkio %v", m)
	}
}

func TestResourcesFromDefinition(t *testing.T) {
	td := newTestDriver(t)
	doc := `<domain type='lxc'><name>r1</name><memory unit='MiB'>128</memory><currentMemory unit='MiB'>100</currentMemory>
<metadata><nsvirt:limits xmlns:nsvirt='https://nsvirt.dev/xmlns/domain/1.0'><nsvirt:pids max='77'/></nsvirt:limits></metadata>
<vcpu cpuset='0-1'>2</vcpu>
<memtune><hard_limit unit='MiB'>96</hard_limit><soft_limit unit='MiB'>64</soft_limit><swap_hard_limit unit='MiB'>200</swap_hard_limit></memtune>
<cputune><shares>512</shares><period>50000</period><quota>-1</quota></cputune>
<numatune><memory mode='strict' nodeset='0'/></numatune>
<os><type>exe</type><init>/sbin/init</init></os><devices><console type='pty'/></devices></domain>`
	def, err := td.parse(doc, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := td.resources(def.Def)
	if err != nil {
		t.Fatal(err)
	}
	if r.MemoryLimit != 96<<20 || r.MemorySoftLimit != 64<<20 || r.MemorySwapLimit != 200<<20 {
		t.Errorf("memory %d %d %d", r.MemoryLimit, r.MemorySoftLimit, r.MemorySwapLimit)
	}
	if r.CPUShares != 512 || r.CPUPeriod != 50000 || r.CPUQuota != cgroups.Unlimited {
		t.Errorf("cpu %d %d %d", r.CPUShares, r.CPUPeriod, r.CPUQuota)
	}
	if r.CPUSetCPUs != "0-1" || r.CPUSetMems != "0" || r.PidsMax != 77 {
		t.Errorf("cpuset %q mems %q pids %d", r.CPUSetCPUs, r.CPUSetMems, r.PidsMax)
	}
	if len(r.Devices) != len(defaultDevices) {
		t.Errorf("devices %v", r.Devices)
	}
	// Without a lower hard limit, the current allocation is the limit.
	def.Def.MemoryTune = nil
	if r, _ := td.resources(def.Def); r.MemoryLimit != 100<<20 || r.PidsMax != 77 {
		t.Errorf("limit without memtune %d", r.MemoryLimit)
	}
}

func TestStatsOfInactiveDomains(t *testing.T) {
	td := newTestDriver(t)
	ref, _ := td.DefineXML(domainXML("c1", uuid1), 0)
	recs, err := td.AllDomainStats(nil, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Dom.Name != "c1" {
		t.Fatalf("records %+v", recs)
	}
	m := paramMap(recs[0].Params)
	want := map[string]any{"state.state": int32(StateShutoff), "state.reason": int32(0),
		"balloon.current": uint64(65536), "balloon.maximum": uint64(65536), "vcpu.current": uint32(1), "vcpu.maximum": uint32(1)}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("stats %v, want %v", m, want)
	}
	if recs, _ := td.AllDomainStats(nil, StatsState, ListActive); len(recs) != 0 {
		t.Errorf("active filter returned %+v", recs)
	}
	if recs, _ := td.AllDomainStats([]DomainRef{ref, {Name: "gone"}}, StatsState, 0); len(recs) != 1 {
		t.Errorf("listed domains %+v", recs)
	}
	if _, err := td.AllDomainStats(nil, 64, StatsEnforceStats); kindOf(t, err) != KindArgumentUnsupported {
		t.Errorf("enforced perf stats: %v", err)
	}
	for _, call := range []error{
		func() error { _, err := td.MemoryStats(ref, 10, 0); return err }(),
		func() error { _, err := td.BlockStats(ref, ""); return err }(),
		func() error { _, err := td.TotalCPUStats(ref); return err }(),
		td.Suspend(ref), td.Resume(ref),
	} {
		if k := kindOf(t, call); k != KindOperationInvalid {
			t.Errorf("inactive domain: %v", call)
		}
	}
}

// TestWithDroppedResetsWeights checks what a live blkiotune change asks
// of the cgroup: a device dropped from the definition loses its limits
// and weight, a device whose weight went to zero loses its weight, and a
// device that never had one is not asked to reset it.
func TestWithDroppedResetsWeights(t *testing.T) {
	dev := blockDevice(t)
	old := &libvirtxml.Domain{BlockIOTune: &libvirtxml.DomainBlockIOTune{
		Device: []libvirtxml.DomainBlockIOTuneDevice{{Path: dev, Weight: 300, ReadBytesSec: 1024}}}}
	var before cgroups.Resources
	if err := blkioResources(old, &before); err != nil {
		t.Fatal(err)
	}
	major, minor := before.BlkioDevices[0].Major, before.BlkioDevices[0].Minor
	tests := []struct {
		name string
		devs []cgroups.BlkioDevice
		want cgroups.BlkioDevice
	}{
		{"dropped", nil, cgroups.BlkioDevice{Major: major, Minor: minor, ResetWeight: true}},
		{"weight to zero", []cgroups.BlkioDevice{{Major: major, Minor: minor, ReadBps: 1024}},
			cgroups.BlkioDevice{Major: major, Minor: minor, ReadBps: 1024, ResetWeight: true}},
		{"weight kept", []cgroups.BlkioDevice{{Major: major, Minor: minor, Weight: 200}},
			cgroups.BlkioDevice{Major: major, Minor: minor, Weight: 200}},
	}
	for _, tt := range tests {
		got := withDropped(tt.devs, old)
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: got %+v, want [%+v]", tt.name, got, tt.want)
		}
	}
	noWeight := &libvirtxml.Domain{BlockIOTune: &libvirtxml.DomainBlockIOTune{
		Device: []libvirtxml.DomainBlockIOTuneDevice{{Path: dev, ReadBytesSec: 1024}}}}
	if got := withDropped(nil, noWeight); len(got) != 1 || got[0].ResetWeight {
		t.Errorf("a device that had no weight: got %+v, want one entry without ResetWeight", got)
	}
}
