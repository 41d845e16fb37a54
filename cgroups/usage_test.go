package cgroups

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// v1Stats are a v1 group's statistics files, with what they mean in
// usageV1.
var v1Stats = map[string]string{
	"cpuacct.usage":               "123456789\n",
	"cpuacct.usage_percpu":        "100000000 23456789 0 \n",
	"cpuacct.stat":                "user 150\nsystem 30\n",
	"memory.usage_in_bytes":       "104857600\n",
	"memory.limit_in_bytes":       "268435456\n",
	"memory.memsw.usage_in_bytes": "125829120\n",
	"memory.stat": "cache 1000\nrss 2000\npgfault 300\npgmajfault 7\n" +
		"total_cache 4096\ntotal_rss 8192\ntotal_pgfault 500\ntotal_pgmajfault 20\n",
	"pids.current": "3\n",
	"blkio.throttle.io_service_bytes_recursive": "8:16 Read 4096\n8:16 Write 8192\n8:16 Sync 0\n8:16 Async 12288\n" +
		"8:16 Discard 0\n8:16 Total 12288\n8:0 Read 512\n8:0 Write 0\n8:0 Total 512\nTotal 12800\n",
	"blkio.throttle.io_serviced_recursive": "8:16 Read 1\n8:16 Write 2\n8:16 Total 3\n8:0 Read 4\n8:0 Write 0\nTotal 7\n",
	"blkio.throttle.io_service_bytes":      "8:16 Read 1\n8:16 Write 1\nTotal 2\n",
	"blkio.throttle.io_serviced":           "8:16 Read 1\n8:16 Write 1\nTotal 2\n",
}

var usageV1 = Usage{
	CPUTime: 123456789, CPUUser: 1500000000, CPUSystem: 300000000, PerCPU: []uint64{100000000, 23456789, 0},
	MemoryUsage: 104857600, MemoryLimit: 268435456, SwapUsage: 20971520,
	Cache: 4096, RSS: 8192, MajorFaults: 20, MinorFaults: 480, PidsCurrent: 3,
	Block: []DeviceIO{
		{Major: 8, Minor: 0, ReadBytes: 512, ReadOps: 4},
		{Major: 8, Minor: 16, ReadBytes: 4096, WriteBytes: 8192, ReadOps: 1, WriteOps: 2},
	},
}

var v2Stats = map[string]string{
	"cpu.stat":            "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
	"memory.current":      "104857600\n",
	"memory.max":          "max\n",
	"memory.swap.current": "4096\n",
	"memory.stat":         "anon 8192\nfile 4096\nkernel 0\npgfault 500\npgmajfault 20\n",
	"pids.current":        "2\n",
	"io.stat": "8:16 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n" +
		"253:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6 cost.usage=9\n",
}

var usageV2 = Usage{
	CPUTime: 2500000, CPUUser: 2000000, CPUSystem: 500000,
	MemoryUsage: 104857600, SwapUsage: 4096, Cache: 4096, RSS: 8192, MajorFaults: 20, MinorFaults: 480, PidsCurrent: 2,
	Block: []DeviceIO{
		{Major: 8, Minor: 16, ReadBytes: 4096, WriteBytes: 8192, ReadOps: 1, WriteOps: 2},
		{Major: 253, Minor: 0, ReadBytes: 1, WriteBytes: 2, ReadOps: 3, WriteOps: 4},
	},
}

// fill writes stats files into a fake, then applies the changes.
func fill(f *fakeHost, stats map[string]string, changes map[string]string) {
	for name, v := range stats {
		f.set(name, v)
	}
	for name, v := range changes {
		if v == "-" {
			f.remove(name)
		} else {
			f.set(name, v)
		}
	}
}

func TestUsage(t *testing.T) {
	withBFQStats := map[string]string{
		"blkio.throttle.io_service_bytes_recursive": "8:0 Read 0\n8:0 Write 0\nTotal 0\n",
		"blkio.throttle.io_serviced_recursive":      "Total 0\n",
		"blkio.bfq.io_service_bytes_recursive":      "8:0 Read 100\n8:0 Write 200\nTotal 300\n",
		"blkio.bfq.io_serviced_recursive":           "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
	}
	usageBFQ := usageV1
	usageBFQ.Block = []DeviceIO{{Major: 8, Minor: 0, ReadBytes: 100, WriteBytes: 200, ReadOps: 1, WriteOps: 2}}
	usageFlat := usageV1
	usageFlat.Block = []DeviceIO{{Major: 8, Minor: 16, ReadBytes: 1, WriteBytes: 1, ReadOps: 1, WriteOps: 1}}
	unlimited := usageV1
	unlimited.MemoryLimit = 0
	noTotals := usageV1
	noTotals.Cache, noTotals.RSS, noTotals.MajorFaults, noTotals.MinorFaults = 1000, 2000, 7, 293
	cases := []struct {
		name    string
		mode    Mode
		stats   map[string]string
		changes map[string]string // "-" removes a file
		want    Usage
	}{
		{"v1", V1, v1Stats, nil, usageV1},
		{"hybrid reads v1", Hybrid, v1Stats, map[string]string{"unified" + testGroup + "/cpu.stat": "usage_usec 1\n"}, usageV1},
		{"v1 unlimited memory", V1, v1Stats, map[string]string{"memory.limit_in_bytes": v1Unlimited + "\n"}, unlimited},
		{"v1 memory.stat without totals", V1, v1Stats, map[string]string{"memory.stat": "cache 1000\nrss 2000\npgfault 300\npgmajfault 7\n"}, noTotals},
		{"v1 BFQ counts when throttling counts none", V1, v1Stats, withBFQStats, usageBFQ},
		{"v1 without recursive files", V1, v1Stats, map[string]string{
			"blkio.throttle.io_service_bytes_recursive": "-", "blkio.throttle.io_serviced_recursive": "-",
		}, usageFlat},
		{"v2", V2, v2Stats, nil, usageV2},
		{"v2 memory limit", V2, v2Stats, map[string]string{"memory.max": "268435456\n"}, func() Usage { u := usageV2; u.MemoryLimit = 268435456; return u }()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeHost(t, c.mode)
			fill(f, c.stats, c.changes)
			got, err := f.group(Resources{}).Usage()
			if err != nil {
				t.Fatalf("Usage: %v", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Usage:\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// TestUsageMissingControllers checks that what a host lacks reads as
// zero: here a v1 host with only the memory and pids controllers, and
// without swap accounting.
func TestUsageMissingControllers(t *testing.T) {
	f := newFakeHost(t, V1)
	for c := range f.layout.V1 {
		if c != "memory" && c != "pids" {
			delete(f.layout.V1, c)
		}
	}
	fill(f, map[string]string{"memory.usage_in_bytes": "4096\n", "pids.current": "1\n"}, map[string]string{
		"memory.memsw.limit_in_bytes": "-", "memory.limit_in_bytes": "-",
	})
	got, err := f.group(Resources{}).Usage()
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if want := (Usage{MemoryUsage: 4096, PidsCurrent: 1}); !reflect.DeepEqual(got, want) {
		t.Errorf("Usage = %+v, want %+v", got, want)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Run("no group", func(t *testing.T) {
		f := newFakeHost(t, V1)
		g, err := f.layout.Group("/machine/absent", Resources{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = g.Usage()
		if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "/machine/absent") {
			t.Errorf("error %v, want a not-exist one naming the group", err)
		}
	})
	bad := []struct{ name, file, content string }{
		{"number", "cpuacct.usage", "12x\n"},
		{"per-CPU list", "cpuacct.usage_percpu", "1 two 3\n"},
		{"keyed line", "memory.stat", "cache 1 2\n"},
		{"keyed value", "cpuacct.stat", "user -3\n"},
		{"blkio line", "blkio.throttle.io_serviced_recursive", "8:0 Read\n"},
		{"blkio device", "blkio.throttle.io_service_bytes_recursive", "8-0 Read 1\n"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeHost(t, V1)
			fill(f, v1Stats, map[string]string{c.file: c.content})
			if _, err := f.group(Resources{}).Usage(); err == nil || !strings.Contains(err.Error(), c.file) {
				t.Errorf("error %v, want one naming %s", err, c.file)
			}
		})
	}
	t.Run("io.stat", func(t *testing.T) {
		f := newFakeHost(t, V2)
		fill(f, v2Stats, map[string]string{"io.stat": "8:0 rbytes=x\n"})
		if _, err := f.group(Resources{}).Usage(); err == nil || !strings.Contains(err.Error(), "io.stat") {
			t.Errorf("error %v, want one naming io.stat", err)
		}
	})
}
