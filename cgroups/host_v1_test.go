package cgroups

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hostResources are limits the host can take, with its optional
// controllers' only where it has them.
func hostResources(l *Layout, parent func(ctrl string) string) Resources {
	r := Resources{
		MemoryLimit: 64 * mib, MemorySoftLimit: 32 * mib,
		CPUShares: 512, CPUPeriod: 100000, CPUQuota: 50000,
		CPUSetCPUs: "0", CPUSetMems: "0", PidsMax: 64, Devices: libvirtDevices,
	}
	if fileExists(parent("memory"), "memory.memsw.limit_in_bytes") {
		r.MemorySwapLimit = 128 * mib
	}
	if fileExists(parent("blkio"), "blkio.weight") || fileExists(parent("blkio"), "blkio.bfq.weight") {
		r.BlkioWeight = 300
	}
	if _, err := os.Stat("/sys/kernel/mm/hugepages/hugepages-2048kB"); err == nil && l.Has("hugetlb") {
		r.Hugepages = []HugepageLimit{{PageSize: "2MB", Limit: 64 * mib}}
	}
	return r
}

// TestHostGroupV1 runs a group's life on a v1 or hybrid host: create with
// limits around a process, read the files and the usage, change a limit,
// freeze and thaw, kill and destroy.
func TestHostGroupV1(t *testing.T) {
	requireRoot(t)
	l := hostLayout(t)
	if l.Mode == V2 {
		t.Skip("skipped: the host is cgroup v2; TestHostGroupV2 covers it")
	}
	path := testPath(t)
	r := hostResources(l, func(ctrl string) string {
		if h, ok := l.V1[ctrl]; ok {
			return filepath.Join(h.Mount, filepath.Dir(path))
		}
		return ""
	})
	// Block I/O is counted on the v1 throttling layer only for devices
	// with a limit: give the disk of the child's file one.
	dd := filepath.Join(t.TempDir(), "dd")
	if major, minor, ok := diskOf(filepath.Dir(dd)); ok {
		r.BlkioDevices = []BlkioDevice{{Major: major, Minor: minor, WriteBps: 1 << 30}}
	} else {
		dd = ""
	}
	g := newHostGroup(t, l, path, r)
	c := startChild(t, dd)
	if err := g.Create(c.cmd.Process.Pid); err != nil {
		t.Fatalf("Create: %v", err)
	}
	c.run(t)
	checkHostFilesV1(t, g, r)
	checkHostUsage(t, g, c.cmd.Process.Pid, r.BlkioDevices)
	if err := g.Set(Resources{CPUShares: 256}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got := readHost(t, filepath.Join(g.Dir("cpu"), "cpu.shares")); got != "256" {
		t.Errorf("cpu.shares after Set = %s, want 256", got)
	}
	checkFreeze(t, g)
	checkKill(t, g, c)
	if err := g.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	for _, d := range g.Paths() {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s still exists after Destroy", d)
		}
	}
}

func checkHostFilesV1(t *testing.T, g *Group, r Resources) {
	t.Helper()
	want := map[string]string{
		"memory/memory.limit_in_bytes": "67108864", "memory/memory.soft_limit_in_bytes": "33554432",
		"cpu/cpu.shares": "512", "cpu/cpu.cfs_period_us": "100000", "cpu/cpu.cfs_quota_us": "50000",
		"cpuset/cpuset.cpus": "0", "cpuset/cpuset.mems": "0", "pids/pids.max": "64",
	}
	if r.MemorySwapLimit != 0 {
		want["memory/memory.memsw.limit_in_bytes"] = "134217728"
	}
	switch {
	case r.BlkioWeight != 0 && fileExists(g.Dir("blkio"), "blkio.weight"):
		want["blkio/blkio.weight"] = "300"
	case r.BlkioWeight != 0:
		want["blkio/blkio.bfq.weight"] = "300"
	}
	for _, d := range r.BlkioDevices {
		want["blkio/blkio.throttle.write_bps_device"] = fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.WriteBps)
	}
	if len(r.Hugepages) > 0 && g.layout.hugetlbInUnified() {
		want["/hugetlb.2MB.max"] = "67108864"
	} else if len(r.Hugepages) > 0 {
		want["hugetlb/hugetlb.2MB.limit_in_bytes"] = "67108864"
	}
	for name, v := range want {
		ctrl, file, _ := strings.Cut(name, "/")
		if got := readHost(t, filepath.Join(g.Dir(ctrl), file)); got != v && got != "default "+v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	list := strings.Split(readHost(t, filepath.Join(g.Dir("devices"), "devices.list")), "\n")
	slices.Sort(list)
	allows := slices.Sorted(slices.Values(libvirtAllows))
	if !slices.Equal(list, allows) {
		t.Errorf("devices.list = %q, want %q", list, allows)
	}
}

func checkHostUsage(t *testing.T, g *Group, pid int, disks []BlkioDevice) {
	t.Helper()
	if pids, err := g.Pids(); err != nil || !slices.Contains(pids, pid) {
		t.Errorf("Pids = %v (%v), want %d among them", pids, err, pid)
	}
	u, err := g.Usage()
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	t.Logf("usage: %+v", u)
	// The child's pages stay charged where they were allocated, and
	// memory.stat's event counters are flushed lazily: only CPU time and
	// the memory charged are sure to have grown.
	if u.CPUTime == 0 || u.MemoryUsage == 0 {
		t.Errorf("usage %+v: CPU time or memory are zero after the child's work", u)
	}
	if u.MemoryLimit != 64*mib {
		t.Errorf("memory limit %d, want %d", u.MemoryLimit, 64*mib)
	}
	if _, ok := g.layout.V1["pids"]; ok && u.PidsCurrent != 1 {
		t.Errorf("%d tasks, want 1", u.PidsCurrent)
	}
	for _, d := range disks {
		i := slices.IndexFunc(u.Block, func(b DeviceIO) bool { return b.Major == uint64(d.Major) && b.Minor == uint64(d.Minor) })
		if i < 0 || u.Block[i].WriteBytes < mib || u.Block[i].WriteOps == 0 {
			t.Errorf("block I/O %+v: want at least 1 MiB written to %d:%d", u.Block, d.Major, d.Minor)
		}
	}
	var sum uint64
	for _, v := range u.PerCPU {
		sum += v
	}
	if g.layout.Mode != V2 && (sum < u.CPUTime*9/10 || sum > u.CPUTime*11/10) {
		t.Errorf("per-CPU times add up to %d, total %d", sum, u.CPUTime)
	}
}

func checkFreeze(t *testing.T, g *Group) {
	t.Helper()
	for _, frozen := range []bool{true, false} {
		if err := g.Freeze(frozen); err != nil {
			t.Fatalf("Freeze(%v): %v", frozen, err)
		}
		if got, err := g.Frozen(); err != nil || got != frozen {
			t.Errorf("Frozen = %v (%v), want %v", got, err, frozen)
		}
	}
}

// checkKill kills the group's tasks and checks that Kill returns as soon
// as they are gone.
func checkKill(t *testing.T, g *Group, c *child) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := g.Kill(ctx); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Kill took %v", d)
	}
	if pids, err := g.Pids(); err != nil || len(pids) != 0 {
		t.Errorf("tasks left after Kill: %v (%v)", pids, err)
	}
	select {
	case err := <-c.exited:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("child ended with %v, want killed", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("child still running after Kill")
	}
}

// TestHostCreateFailure checks that a group whose limits the library or
// the kernel refuses is not left behind.
func TestHostCreateFailure(t *testing.T) {
	requireRoot(t)
	l := hostLayout(t)
	cases := map[string]Resources{
		"library refuses cpuset": {CPUSetCPUs: strconv.Itoa(1 << 20)},
		"kernel refuses weight":  {MemoryLimit: 64 * mib, BlkioWeight: 5000},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			g := newHostGroup(t, l, testPath(t), r)
			if err := g.Create(-1); err == nil {
				t.Fatal("Create succeeded")
			} else {
				t.Logf("Create: %v", err)
			}
			for _, d := range g.Paths() {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("%s left behind", d)
				}
			}
		})
	}
}

// diskOf returns the whole disk holding dir's file system, if a block
// device does: throttling takes disks, not partitions.
func diskOf(dir string) (major, minor int64, ok bool) {
	var st unix.Stat_t
	if unix.Stat(dir, &st) != nil || unix.Major(st.Dev) == 0 {
		return 0, 0, false
	}
	sys, err := filepath.EvalSymlinks(fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil {
		return 0, 0, false
	}
	if fileExists(sys, "partition") {
		sys = filepath.Dir(sys)
	}
	b, err := os.ReadFile(filepath.Join(sys, "dev"))
	if err != nil {
		return 0, 0, false
	}
	_, err = fmt.Sscanf(string(b), "%d:%d", &major, &minor)
	return major, minor, err == nil
}
