package cgroups

import (
	"testing"
)

const (
	mib = 1 << 20
	gib = 1 << 30
)

// resourceCase is one setting and the files it must produce.
type resourceCase struct {
	name   string
	prep   func(*fakeHost)   // changes to the fake before
	r      Resources         // what is set
	want   map[string]string // files and their content after (see fakeHost.file)
	absent []string          // files that must not be written
}

// withCFQ gives the fake v1 blkio hierarchy CFQ's files, as kernels
// before 5.0 have.
func withCFQ(f *fakeHost) {
	f.set("blkio.weight", "500")
	f.set("blkio.weight_device", "")
}

// v1Cases hold for a v1 host and for the v1 part of a hybrid one.
var v1Cases = []resourceCase{
	{name: "memory limit", r: Resources{MemoryLimit: 256 * mib},
		want: map[string]string{"memory.limit_in_bytes": "268435456", "memory.memsw.limit_in_bytes": v1Unlimited}},
	{name: "soft limit", r: Resources{MemorySoftLimit: 128 * mib},
		want: map[string]string{"memory.soft_limit_in_bytes": "134217728", "memory.limit_in_bytes": v1Unlimited}},
	{name: "memory and swap", r: Resources{MemoryLimit: 256 * mib, MemorySwapLimit: 512 * mib},
		want: map[string]string{"memory.limit_in_bytes": "268435456", "memory.memsw.limit_in_bytes": "536870912"}},
	{name: "swap alone", r: Resources{MemorySwapLimit: 512 * mib},
		want: map[string]string{"memory.memsw.limit_in_bytes": "536870912", "memory.limit_in_bytes": v1Unlimited}},
	{name: "memory unlimited also lifts swap", prep: func(f *fakeHost) {
		f.set("memory.limit_in_bytes", "268435456")
		f.set("memory.memsw.limit_in_bytes", "536870912")
	}, r: Resources{MemoryLimit: Unlimited},
		want: map[string]string{"memory.limit_in_bytes": "-1", "memory.memsw.limit_in_bytes": "-1"}},
	{name: "swap unlimited", r: Resources{MemoryLimit: 256 * mib, MemorySwapLimit: Unlimited},
		want: map[string]string{"memory.limit_in_bytes": "268435456", "memory.memsw.limit_in_bytes": "-1"}},
	{name: "soft limit unlimited", prep: func(f *fakeHost) { f.set("memory.soft_limit_in_bytes", "1") },
		r: Resources{MemorySoftLimit: Unlimited}, want: map[string]string{"memory.soft_limit_in_bytes": "-1"}},
	{name: "cpu shares", r: Resources{CPUShares: 512}, want: map[string]string{"cpu.shares": "512"}},
	{name: "cpu shares above cpu.weight's range", r: Resources{CPUShares: 262144},
		want: map[string]string{"cpu.shares": "262144"}},
	{name: "cpu period and quota", r: Resources{CPUPeriod: 250000, CPUQuota: 50000},
		want: map[string]string{"cpu.cfs_period_us": "250000", "cpu.cfs_quota_us": "50000", "cpu.shares": "1024"}},
	{name: "cpu quota unlimited", prep: func(f *fakeHost) { f.set("cpu.cfs_quota_us", "50000") },
		r: Resources{CPUQuota: Unlimited}, want: map[string]string{"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000"}},
	{name: "cpuset", r: Resources{CPUSetCPUs: "0-1", CPUSetMems: "0"},
		want: map[string]string{"cpuset.cpus": "0-1", "cpuset.mems": "0"}},
	{name: "cpuset inherited when unset", r: Resources{},
		want: map[string]string{"cpuset.cpus": "0-3", "cpuset.mems": "0"}},
	{name: "blkio weight, BFQ only", r: Resources{BlkioWeight: 300},
		want: map[string]string{"blkio.bfq.weight": "300"}, absent: []string{"blkio.weight"}},
	{name: "blkio weight, CFQ", prep: withCFQ, r: Resources{BlkioWeight: 300},
		want: map[string]string{"blkio.weight": "300", "blkio.bfq.weight": "100"}},
	{name: "device weight, BFQ only", r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, Weight: 200}}},
		want:   map[string]string{"blkio.bfq.weight_device": "8:0 200", "blkio.bfq.weight": "100"},
		absent: []string{"blkio.weight_device", "blkio.weight"}},
	{name: "device weight, CFQ", prep: withCFQ, r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, Weight: 200}}},
		want: map[string]string{"blkio.weight_device": "8:0 200", "blkio.bfq.weight_device": ""}},
	// BFQ refuses "8:0 0" with ERANGE; "default" removes the device's weight.
	{name: "device weight reset, BFQ only", r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, ResetWeight: true}}},
		want: map[string]string{"blkio.bfq.weight_device": "8:0 default"}},
	{name: "device weight reset, CFQ", prep: withCFQ, r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, ResetWeight: true}}},
		want: map[string]string{"blkio.weight_device": "8:0 0", "blkio.bfq.weight_device": ""}},
	{name: "a throttled device's weight left alone", r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 0, ReadBps: mib}}},
		want: map[string]string{"blkio.bfq.weight_device": ""}},
	{name: "throttles", r: Resources{BlkioDevices: []BlkioDevice{{Major: 8, Minor: 16, ReadBps: 1 * mib, WriteBps: 2 * mib, ReadIOPS: 100, WriteIOPS: 200}}},
		want: map[string]string{
			"blkio.throttle.read_bps_device": "8:16 1048576", "blkio.throttle.write_bps_device": "8:16 2097152",
			"blkio.throttle.read_iops_device": "8:16 100", "blkio.throttle.write_iops_device": "8:16 200",
			"blkio.bfq.weight_device": "",
		}},
	{name: "pids", r: Resources{PidsMax: 512}, want: map[string]string{"pids.max": "512"}},
	{name: "pids unlimited", prep: func(f *fakeHost) { f.set("pids.max", "64") },
		r: Resources{PidsMax: Unlimited}, want: map[string]string{"pids.max": "max"}},
	{name: "nothing set changes nothing", r: Resources{},
		want: map[string]string{
			"memory.limit_in_bytes": v1Unlimited, "memory.soft_limit_in_bytes": v1Unlimited,
			"memory.memsw.limit_in_bytes": v1Unlimited, "cpu.shares": "1024", "cpu.cfs_quota_us": "-1",
			"blkio.bfq.weight": "100", "pids.max": "max",
		},
		absent: []string{"blkio.throttle.read_bps_device", "blkio.weight", "devices.deny", "devices.allow"}},
}

// runCase creates testGroup with c.r on a fresh fake and checks the
// files.
func runCase(t *testing.T, mode Mode, c resourceCase) {
	f := newFakeHost(t, mode)
	if c.prep != nil {
		c.prep(f)
	}
	g := f.group(c.r)
	var err error
	if mode == V2 {
		err = g.Set(c.r) // the library creates v2 groups only under /sys/fs/cgroup
	} else {
		err = g.Create(-1)
	}
	if err != nil {
		t.Fatalf("apply %+v: %v", c.r, err)
	}
	f.check(c.want)
	f.absent(c.absent)
}

func TestResourcesV1(t *testing.T) {
	for _, mode := range []Mode{V1, Hybrid} {
		for _, c := range v1Cases {
			t.Run(mode.String()+"/"+c.name, func(t *testing.T) { runCase(t, mode, c) })
		}
	}
}

func TestHugetlbV1(t *testing.T) {
	runCase(t, V1, resourceCase{
		r: Resources{Hugepages: []HugepageLimit{{PageSize: "2MB", Limit: gib}}},
		want: map[string]string{
			"hugetlb.2MB.limit_in_bytes": "1073741824", "hugetlb.2MB.rsvd.limit_in_bytes": "1073741824",
		},
	})
}

// TestSetChangesOnlyWhatIsGiven checks a live change after Create.
func TestSetChangesOnlyWhatIsGiven(t *testing.T) {
	f := newFakeHost(t, V1)
	r := Resources{MemoryLimit: 256 * mib, CPUShares: 512, BlkioWeight: 300, PidsMax: 64}
	g := f.group(r)
	if err := g.Create(-1); err != nil {
		t.Fatal(err)
	}
	if err := g.Set(Resources{CPUShares: 256}); err != nil {
		t.Fatal(err)
	}
	f.check(map[string]string{
		"cpu.shares": "256", "memory.limit_in_bytes": "268435456", "blkio.bfq.weight": "300", "pids.max": "64",
	})
}

// TestThrottlesSeveralDevices checks every write to a throttle file, in
// order, when several devices share it.
func TestThrottlesSeveralDevices(t *testing.T) {
	for _, mode := range []Mode{V1, V2} {
		t.Run(mode.String(), func(t *testing.T) {
			f := newFakeHost(t, mode)
			r := Resources{BlkioDevices: []BlkioDevice{
				{Major: 8, Minor: 0, ReadBps: 100, WriteIOPS: 7},
				{Major: 8, Minor: 16, ReadBps: 200, WriteBps: 300},
			}}
			steps := []access{
				{file: f.file("blkio.throttle.read_bps_device"), write: "8:0 100"},
				{file: f.file("blkio.throttle.read_bps_device"), write: "8:16 200"},
			}
			if mode == V2 {
				io := f.file("io.max")
				steps = []access{
					{file: io, write: "8:0 riops=max wbps=max"}, {file: io, write: "8:16 riops=max wiops=max"},
					{file: io, write: "8:0 rbps=100"}, {file: io, write: "8:16 rbps=200"},
					{file: io, write: "8:16 wbps=300"}, {file: io, write: "8:0 wiops=7"},
				}
			}
			g := f.group(r)
			s := startScript(t, steps)
			if err := runScripted(t, s, func() error { return g.Set(r) }); err != nil {
				t.Fatal(err)
			}
			if mode == V1 {
				f.check(map[string]string{
					// A zero limit is written too: it removes a limit set before.
					"blkio.throttle.write_bps_device": "8:16 300", "blkio.throttle.write_iops_device": "8:16 0",
					"blkio.throttle.read_iops_device": "8:16 0",
				})
			}
		})
	}
}
