package cgroups

import (
	"strings"
	"testing"
)

// withBFQ gives the fake v2 group BFQ's io.bfq.weight, in the form of
// Linux 5.4 and later (which takes per-device weights).
func withBFQ(f *fakeHost) { f.set("io.bfq.weight", "default 100") }

var v2Cases = []resourceCase{
	{name: "memory limit", r: Resources{MemoryLimit: 256 * mib},
		want: map[string]string{"memory.max": "268435456", "memory.swap.max": "max", "memory.low": "0"}},
	{name: "soft limit", r: Resources{MemorySoftLimit: 128 * mib},
		// memory.high, as libvirt writes it; memory.low is a protection.
		want: map[string]string{"memory.high": "134217728", "memory.low": "0", "memory.max": "max"}},
	{name: "memory and swap", r: Resources{MemoryLimit: 256 * mib, MemorySwapLimit: 512 * mib},
		// memory.swap.max is swap alone: memory+swap less memory.
		want: map[string]string{"memory.max": "268435456", "memory.swap.max": "268435456"}},
	{name: "swap equal to memory means no swap", r: Resources{MemoryLimit: 256 * mib, MemorySwapLimit: 256 * mib},
		want: map[string]string{"memory.max": "268435456", "memory.swap.max": "0"}},
	{name: "memory unlimited also lifts swap", prep: func(f *fakeHost) {
		f.set("memory.max", "268435456")
		f.set("memory.swap.max", "0")
	}, r: Resources{MemoryLimit: Unlimited}, want: map[string]string{"memory.max": "max", "memory.swap.max": "max"}},
	{name: "swap unlimited", prep: func(f *fakeHost) { f.set("memory.swap.max", "0") },
		r:    Resources{MemoryLimit: 256 * mib, MemorySwapLimit: Unlimited},
		want: map[string]string{"memory.max": "268435456", "memory.swap.max": "max"}},
	{name: "soft limit unlimited", prep: func(f *fakeHost) { f.set("memory.high", "134217728") },
		r: Resources{MemorySoftLimit: Unlimited}, want: map[string]string{"memory.high": "max", "memory.low": "0"}},
	{name: "cpu shares unchanged in cpu.weight", r: Resources{CPUShares: 512}, want: map[string]string{"cpu.weight": "512"}},
	{name: "cpu shares 1", r: Resources{CPUShares: 1}, want: map[string]string{"cpu.weight": "1"}},
	{name: "cpu shares 10000", r: Resources{CPUShares: 10000}, want: map[string]string{"cpu.weight": "10000"}},
	{name: "cpu period and quota", r: Resources{CPUPeriod: 250000, CPUQuota: 50000},
		want: map[string]string{"cpu.max": "50000 250000", "cpu.weight": "100"}},
	{name: "quota keeps the period", prep: func(f *fakeHost) { f.set("cpu.max", "max 250000\n") },
		r: Resources{CPUQuota: 50000}, want: map[string]string{"cpu.max": "50000 250000"}},
	{name: "period keeps the quota", prep: func(f *fakeHost) { f.set("cpu.max", "50000 100000\n") },
		r: Resources{CPUPeriod: 200000}, want: map[string]string{"cpu.max": "50000 200000"}},
	{name: "quota unlimited", prep: func(f *fakeHost) { f.set("cpu.max", "50000 250000\n") },
		r: Resources{CPUQuota: Unlimited}, want: map[string]string{"cpu.max": "max 250000"}},
	{name: "cpuset", r: Resources{CPUSetCPUs: "0-1", CPUSetMems: "0"},
		want: map[string]string{"cpuset.cpus": "0-1", "cpuset.mems": "0"}},
	{name: "blkio weight without BFQ", r: Resources{BlkioWeight: 300},
		want: map[string]string{"io.weight": "default 300"}, absent: []string{"io.bfq.weight"}},
	{name: "blkio weight with BFQ", prep: withBFQ, r: Resources{BlkioWeight: 300},
		want: map[string]string{"io.bfq.weight": "300", "io.weight": "default 100"}},
	{name: "device weight without BFQ", r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, Weight: 200}}},
		want: map[string]string{"io.weight": "8:0 200"}, absent: []string{"io.bfq.weight"}},
	{name: "device weight with BFQ", prep: withBFQ, r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, Weight: 200}}},
		want: map[string]string{"io.bfq.weight": "8:0 200", "io.weight": "default 100"}},
	{name: "device weight with an old BFQ", prep: func(f *fakeHost) { f.set("io.bfq.weight", "100\n") },
		r:    Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, Weight: 200}}},
		want: map[string]string{"io.weight": "8:0 200", "io.bfq.weight": "100\n"}},
	{name: "device weight reset without BFQ", r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, ResetWeight: true}}},
		want: map[string]string{"io.weight": "8:0 default"}},
	{name: "device weight reset with BFQ", prep: withBFQ, r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, ResetWeight: true}}},
		want: map[string]string{"io.bfq.weight": "8:0 default", "io.weight": "default 100"}},
	{name: "read bps", r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, ReadBps: mib}}},
		want: map[string]string{"io.max": "8:0 rbps=1048576"}},
	{name: "write bps", r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, WriteBps: 2 * mib}}},
		want: map[string]string{"io.max": "8:0 wbps=2097152"}},
	{name: "read iops", r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, ReadIOPS: 100}}},
		want: map[string]string{"io.max": "8:0 riops=100"}},
	{name: "write iops", r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, WriteIOPS: 200}}},
		want: map[string]string{"io.max": "8:0 wiops=200"}},
	{name: "pids", r: Resources{PidsMax: 512}, want: map[string]string{"pids.max": "512"}},
	{name: "pids unlimited", prep: func(f *fakeHost) { f.set("pids.max", "64") },
		r: Resources{PidsMax: Unlimited}, want: map[string]string{"pids.max": "max"}},
	{name: "hugetlb", r: Resources{Hugepages: []HugepageLimit{{PageSize: "2MB", Limit: gib}}},
		want: map[string]string{"hugetlb.2MB.max": "1073741824", "hugetlb.2MB.rsvd.max": "1073741824"}},
	{name: "nothing set changes nothing", r: Resources{},
		want: map[string]string{
			"memory.max": "max", "memory.low": "0", "memory.swap.max": "max", "cpu.weight": "100",
			"cpu.max": "max 100000", "io.weight": "default 100", "io.max": "", "pids.max": "max",
		}},
}

func TestResourcesV2(t *testing.T) {
	for _, c := range v2Cases {
		t.Run(c.name, func(t *testing.T) { runCase(t, V2, c) })
	}
}

func TestInvalidResources(t *testing.T) {
	cases := []struct {
		name string
		mode Mode
		r    Resources
		want string
	}{
		{"shares above cpu.weight", V2, Resources{CPUShares: 10001}, "out of cpu.weight's range"},
		{"shares far above cpu.weight", V2, Resources{CPUShares: 262144}, "out of cpu.weight's range"},
		{"negative memory", V1, Resources{MemoryLimit: -2}, "invalid memory limit"},
		{"negative quota", Hybrid, Resources{CPUQuota: -5}, "invalid cpu quota"},
		{"negative pids", V2, Resources{PidsMax: -3}, "invalid pids limit"},
		{"device type", V1, Resources{Devices: []DeviceRule{{Type: 'x', Major: 1, Minor: 3, Access: "rwm"}}}, "invalid device type"},
		{"device access", V1, Resources{Devices: []DeviceRule{{Type: 'c', Major: 1, Minor: 3, Access: "rwx"}}}, "invalid device access"},
		{"no device access", V2, Resources{Devices: []DeviceRule{{Type: 'c', Major: 1, Minor: 3}}}, "invalid device access"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeHost(t, c.mode)
			if _, err := f.layout.Group(testGroup, c.r); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Group: error %v, want one saying %q", err, c.want)
			}
			g := f.group(Resources{})
			if err := g.Set(c.r); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Set: error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// TestSwapWithoutMemoryV2 checks that v2, where swap is counted apart
// from memory, refuses a memory+swap limit it cannot convert.
func TestSwapWithoutMemoryV2(t *testing.T) {
	f := newFakeHost(t, V2)
	g := f.group(Resources{})
	err := g.Set(Resources{MemorySwapLimit: 512 * mib})
	if err == nil || !strings.Contains(err.Error(), "swap limit without memory limit") {
		t.Errorf("error %v, want the library's refusal", err)
	}
	f.check(map[string]string{"memory.swap.max": "max"})
}
