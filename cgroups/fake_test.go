package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocg "github.com/opencontainers/cgroups"
)

// testGroup is the group every fake tree holds.
const testGroup = "/machine/lxc-1-c1.libvirt-lxc"

// v1Unlimited is what v1 limit files hold when there is no limit.
const v1Unlimited = "9223372036854771712"

// fakeV1 are the fake host's v1 hierarchies: directory and controllers.
// A hybrid fake, like the reference host, has no v1 hugetlb; its
// unified hierarchy offers hugetlb instead.
var fakeV1 = []struct{ dir, opts string }{
	{"cpu", "cpu"}, {"cpuacct", "cpuacct"}, {"cpuset", "cpuset"}, {"memory", "memory"},
	{"devices", "devices"}, {"freezer", "freezer"}, {"blkio", "blkio"}, {"pids", "pids"},
	{"hugetlb", "hugetlb"}, {"systemd", "name=systemd"},
}

// v1Defaults are the files a new v1 group has that the tests look at,
// with the kernel's defaults. blkio is this host's: BFQ's files only.
var v1Defaults = map[string]map[string]string{
	"cpu":    {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1"},
	"cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
	"memory": {
		"memory.limit_in_bytes": v1Unlimited, "memory.soft_limit_in_bytes": v1Unlimited,
		"memory.memsw.limit_in_bytes": v1Unlimited, "memory.usage_in_bytes": "0", "memory.max_usage_in_bytes": "0",
	},
	"blkio":   {"blkio.bfq.weight": "100", "blkio.bfq.weight_device": ""},
	"pids":    {"pids.max": "max"},
	"hugetlb": {"hugetlb.2MB.limit_in_bytes": v1Unlimited},
}

// v2Defaults are a new v2 group's files that the tests look at. io is a
// kernel's without BFQ.
var v2Defaults = map[string]string{
	"cgroup.controllers": "cpuset cpu io memory hugetlb pids", "cgroup.subtree_control": "",
	"cgroup.procs": "", "cpu.weight": "100", "cpu.max": "max 100000", "cpuset.cpus": "", "cpuset.mems": "",
	"memory.max": "max", "memory.high": "max", "memory.low": "0", "memory.swap.max": "max", "io.weight": "default 100",
	"io.max": "", "pids.max": "max", "hugetlb.2MB.max": "max",
}

// fakeHost is a cgroup tree in a temporary directory, with the layout
// DetectFrom finds in a mount table naming it.
type fakeHost struct {
	t      *testing.T
	root   string // stands for /sys/fs/cgroup
	layout *Layout
}

// testMode lets the library write plain files for the test's duration.
func testMode(t *testing.T) {
	old := ocg.TestMode
	ocg.TestMode = true
	t.Cleanup(func() { ocg.TestMode = old })
}

// newFakeHost builds a fake tree for mode, with testGroup and its parent
// holding the kernel's default files.
func newFakeHost(t *testing.T, mode Mode) *fakeHost {
	t.Helper()
	testMode(t)
	f := &fakeHost{t: t, root: t.TempDir()}
	var err error
	if f.layout, err = DetectFrom(strings.NewReader(fakeMountinfo(mode, f.root))); err != nil {
		t.Fatalf("DetectFrom: %v", err)
	}
	if f.layout.Mode != mode {
		t.Fatalf("fake layout is %s, want %s", f.layout.Mode, mode)
	}
	switch mode {
	case V2:
		for _, d := range []string{"", "/machine", testGroup} {
			f.writeFiles(filepath.Join(f.root, d), v2Defaults)
		}
	case Hybrid:
		uni := map[string]string{"cgroup.controllers": "", "cgroup.subtree_control": "", "cgroup.procs": ""}
		f.writeFiles(filepath.Join(f.root, "unified", testGroup), uni)
		f.writeFiles(filepath.Join(f.root, "unified", "machine"), uni)
		uni["cgroup.controllers"] = "hugetlb"
		f.writeFiles(filepath.Join(f.root, "unified"), uni)
	}
	if mode != V2 {
		f.makeV1()
	}
	return f
}

// makeV1 creates the v1 hierarchies' group directories.
func (f *fakeHost) makeV1() {
	for _, h := range fakeV1 {
		if _, ok := f.layout.V1[h.opts]; !ok {
			continue
		}
		files := map[string]string{"cgroup.procs": ""}
		for k, v := range v1Defaults[h.dir] {
			files[k] = v
		}
		f.writeFiles(filepath.Join(f.root, h.dir, testGroup), files)
	}
	f.writeFiles(filepath.Join(f.root, "cpuset", "machine"), map[string]string{"cpuset.cpus": "0-3", "cpuset.mems": "0"})
}

// fakeMountinfo is a mount table with the cgroup file systems of a host
// of the given mode mounted under root.
func fakeMountinfo(mode Mode, root string) string {
	if mode == V2 {
		return fmt.Sprintf("31 23 0:28 / %s rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n", root)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "31 23 0:28 / %s rw,relatime - tmpfs tmpfs rw,mode=755\n", root)
	for i, h := range fakeV1 {
		if h.dir == "hugetlb" && mode == Hybrid {
			continue
		}
		fmt.Fprintf(&b, "%d 31 0:%d / %s/%s rw,relatime - cgroup cgroup rw,%s\n", 40+i, 40+i, root, h.dir, h.opts)
	}
	if mode == Hybrid {
		fmt.Fprintf(&b, "60 31 0:60 / %s/unified rw,relatime - cgroup2 cgroup2 rw\n", root)
	}
	return b.String()
}

// writeFiles creates dir and files in it.
func (f *fakeHost) writeFiles(dir string, files map[string]string) {
	f.t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

// file returns the path of a fake file. A name with a slash is relative
// to the root; a bare name is in testGroup's directory, in the v1
// hierarchy its prefix names (memory.max goes to memory/) or, on v2, in
// the unified one.
func (f *fakeHost) file(name string) string {
	if strings.Contains(name, "/") {
		return filepath.Join(f.root, name)
	}
	if f.layout.Mode == V2 {
		return filepath.Join(f.root, testGroup, name)
	}
	ctrl, _, _ := strings.Cut(name, ".")
	return filepath.Join(f.root, ctrl, testGroup, name)
}

// set writes a fake file (see file).
func (f *fakeHost) set(name, value string) {
	f.t.Helper()
	if err := os.WriteFile(f.file(name), []byte(value), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// remove deletes a fake file (see file).
func (f *fakeHost) remove(name string) {
	f.t.Helper()
	if err := os.Remove(f.file(name)); err != nil {
		f.t.Fatal(err)
	}
}

// check compares fake files (see file) with what they should hold.
func (f *fakeHost) check(want map[string]string) {
	f.t.Helper()
	for name, v := range want {
		b, err := os.ReadFile(f.file(name))
		if err != nil {
			f.t.Errorf("%s: %v", name, err)
		} else if got := string(b); got != v {
			f.t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
}

// absent checks that nothing wrote the fake files names.
func (f *fakeHost) absent(names []string) {
	f.t.Helper()
	for _, name := range names {
		if _, err := os.Stat(f.file(name)); err == nil {
			f.t.Errorf("%s was written", name)
		}
	}
}

// group returns testGroup with r.
func (f *fakeHost) group(r Resources) *Group {
	f.t.Helper()
	g, err := f.layout.Group(testGroup, r)
	if err != nil {
		f.t.Fatalf("Group: %v", err)
	}
	return g
}
