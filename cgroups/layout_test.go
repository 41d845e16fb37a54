package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// Mount tables of real hosts ("/sys/fs/cgroup" is replaced by a
// temporary directory in the tests).
const (
	// centOS7 is pure cgroup v1 with co-mounted controllers.
	centOS7 = `17 39 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw,seclabel
18 39 0:4 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
21 17 0:19 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,seclabel,mode=755
22 21 0:20 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,seclabel,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
25 21 0:23 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,seclabel,net_prio,net_cls
26 21 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,seclabel,cpuacct,cpu
27 21 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,seclabel,memory
28 21 0:26 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,seclabel,devices
29 21 0:27 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,seclabel,freezer
30 21 0:28 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,seclabel,blkio
31 21 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,seclabel,pids
32 21 0:30 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,seclabel,hugetlb
33 21 0:31 / /sys/fs/cgroup/perf_event rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,seclabel,perf_event
34 21 0:32 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,seclabel,cpuset
`
	// ubuntu2004 is systemd's hybrid layout: v1 controllers, and cgroup2
	// for systemd's own tracking with no controllers.
	ubuntu2004 = `22 28 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
24 22 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
25 24 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
26 24 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
29 24 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
30 24 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,net_cls,net_prio
31 24 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
32 24 0:30 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,devices
33 24 0:31 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,freezer
34 24 0:32 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,blkio
35 24 0:33 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,pids
36 24 0:34 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,hugetlb
37 24 0:35 / /sys/fs/cgroup/perf_event rw,nosuid,nodev,noexec,relatime shared:22 - cgroup cgroup rw,perf_event
38 24 0:36 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:23 - cgroup cgroup rw,cpuset
39 24 0:37 / /sys/fs/cgroup/rdma rw,nosuid,nodev,noexec,relatime shared:24 - cgroup cgroup rw,rdma
`
	// referenceHost is this project's reference host (Debian 12 without
	// systemd): v1 controllers, cgroup2 holding only hugetlb.
	referenceHost = `23 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	// debian12 is pure cgroup v2.
	debian12 = `22 28 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`
	// v2LegacyNamed is pure v2 plus a named v1 hierarchy mounted for old
	// containers that want one.
	v2LegacyNamed = debian12 + `60 22 0:50 / /run/cgroup-systemd rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,xattr,name=systemd
`
)

// layoutCase is a mount table and what DetectFrom must make of it.
type layoutCase struct {
	name        string
	mountinfo   string
	controllers string // the unified root's cgroup.controllers
	mode        Mode
	unified     string            // relative to the temporary root
	v1          map[string]string // controller: mount, relative to the root
	mounts      []string          // ContainerMounts' v1 hierarchies
	mountUni    string            // ContainerMounts' unified directory
	has, hasNot []string
}

var layoutCases = []layoutCase{
	{name: "v1 (CentOS 7)", mountinfo: centOS7, mode: V1,
		v1: map[string]string{
			"cpu": "cpu,cpuacct", "cpuacct": "cpu,cpuacct", "net_cls": "net_cls,net_prio", "net_prio": "net_cls,net_prio",
			"memory": "memory", "devices": "devices", "freezer": "freezer", "blkio": "blkio", "pids": "pids",
			"hugetlb": "hugetlb", "perf_event": "perf_event", "cpuset": "cpuset", "name=systemd": "systemd",
		},
		mounts: []string{"blkio", "cpuacct,cpu", "cpuset", "devices", "freezer", "hugetlb", "memory",
			"net_prio,net_cls", "perf_event", "pids", "name=systemd"},
		has: []string{"memory", "cpuacct", "devices", "hugetlb", "name=systemd"}, hasNot: []string{"io", "rdma", "misc"}},
	{name: "systemd hybrid (Ubuntu 20.04)", mountinfo: ubuntu2004, mode: Hybrid, unified: "unified",
		v1: map[string]string{
			"cpu": "cpu,cpuacct", "cpuacct": "cpu,cpuacct", "net_cls": "net_cls,net_prio", "net_prio": "net_cls,net_prio",
			"memory": "memory", "devices": "devices", "freezer": "freezer", "blkio": "blkio", "pids": "pids",
			"hugetlb": "hugetlb", "perf_event": "perf_event", "cpuset": "cpuset", "rdma": "rdma", "name=systemd": "systemd",
		},
		mounts: []string{"blkio", "cpu,cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory",
			"net_cls,net_prio", "perf_event", "pids", "rdma", "name=systemd"},
		mountUni: "unified", has: []string{"memory", "rdma", "hugetlb"}, hasNot: []string{"io", "misc"}},
	{name: "reference host hybrid", mountinfo: referenceHost, controllers: "hugetlb\n", mode: Hybrid, unified: "unified",
		v1: map[string]string{
			"cpu": "cpu", "cpuacct": "cpuacct", "cpuset": "cpuset", "memory": "memory", "devices": "devices",
			"freezer": "freezer", "blkio": "blkio", "pids": "pids", "name=systemd": "systemd",
		},
		mounts:   []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "name=systemd"},
		mountUni: "unified", has: []string{"hugetlb", "memory", "cpuacct"}, hasNot: []string{"io", "perf_event", "rdma"}},
	{name: "v2 (Debian 12)", mountinfo: debian12, controllers: "cpuset cpu io memory hugetlb pids rdma misc\n",
		mode: V2, unified: ".", v1: map[string]string{}, mountUni: ".",
		has: []string{"memory", "io", "cpu", "misc"}, hasNot: []string{"devices", "freezer", "cpuacct", "blkio"}},
	{name: "v2 with a named v1 hierarchy", mountinfo: v2LegacyNamed, controllers: "cpu memory pids\n",
		mode: V2, unified: ".", v1: map[string]string{"name=systemd": "/run/cgroup-systemd"}, mountUni: ".",
		has: []string{"memory", "name=systemd"}, hasNot: []string{"io", "devices"}},
}

func TestDetectFrom(t *testing.T) {
	for _, c := range layoutCases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			if c.unified != "" {
				uni := filepath.Join(root, c.unified)
				os.MkdirAll(uni, 0o755)
				if err := os.WriteFile(filepath.Join(uni, "cgroup.controllers"), []byte(c.controllers), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			l, err := DetectFrom(strings.NewReader(strings.ReplaceAll(c.mountinfo, "/sys/fs/cgroup", root)))
			if err != nil {
				t.Fatalf("DetectFrom: %v", err)
			}
			checkLayout(t, l, c, root)
		})
	}
}

func checkLayout(t *testing.T, l *Layout, c layoutCase, root string) {
	t.Helper()
	if l.Mode != c.mode {
		t.Errorf("mode %s, want %s", l.Mode, c.mode)
	}
	if want := filepath.Join(root, c.unified); c.unified != "" && l.Unified != want || c.unified == "" && l.Unified != "" {
		t.Errorf("unified %q, want %q", l.Unified, c.unified)
	}
	got := map[string]string{}
	for ctrl, h := range l.V1 {
		got[ctrl] = strings.TrimPrefix(h.Mount, root+"/")
	}
	if !reflect.DeepEqual(got, c.v1) {
		t.Errorf("v1 hierarchies %v, want %v", got, c.v1)
	}
	mounts, uni := l.ContainerMounts()
	if !reflect.DeepEqual(mounts, c.mounts) || uni != c.mountUni {
		t.Errorf("ContainerMounts = %q, %q; want %q, %q", mounts, uni, c.mounts, c.mountUni)
	}
	for _, ctrl := range c.has {
		if !l.Has(ctrl) {
			t.Errorf("Has(%q) = false", ctrl)
		}
	}
	for _, ctrl := range c.hasNot {
		if l.Has(ctrl) {
			t.Errorf("Has(%q) = true", ctrl)
		}
	}
}

func TestDetectFromErrors(t *testing.T) {
	for name, text := range map[string]string{
		"no cgroups": "22 28 0:20 / /sys rw,nosuid - sysfs sysfs rw\n",
		"empty":      "",
		"garbage":    "this is not a mount table\n",
	} {
		if l, err := DetectFrom(strings.NewReader(text)); err == nil {
			t.Errorf("%s: layout %+v, want an error", name, l)
		}
	}
}

// TestDetectFromPrefersSysFsCgroup checks that of two cgroup2 mounts,
// the one at /sys/fs/cgroup is the host's, whatever the order.
func TestDetectFromPrefersSysFsCgroup(t *testing.T) {
	other := "90 22 0:23 / /var/lib/x/cgroup rw,relatime - cgroup2 cgroup2 rw\n"
	for _, text := range []string{other + debian12, debian12 + other} {
		l, err := DetectFrom(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		if l.Unified != "/sys/fs/cgroup" || l.Mode != V2 {
			t.Errorf("unified %q mode %s, want /sys/fs/cgroup v2", l.Unified, l.Mode)
		}
	}
}

func TestHierarchiesAndDescribe(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "unified"), 0o755)
	os.WriteFile(filepath.Join(root, "unified", "cgroup.controllers"), []byte("hugetlb\n"), 0o644)
	l, err := DetectFrom(strings.NewReader(strings.ReplaceAll(referenceHost, "/sys/fs/cgroup", root)))
	if err != nil {
		t.Fatal(err)
	}
	var mounts []string
	for _, h := range l.Hierarchies() {
		mounts = append(mounts, h.Mount)
	}
	if !sort.StringsAreSorted(mounts) || len(mounts) != 9 {
		t.Errorf("Hierarchies mounts %q, want the 9 in order", mounts)
	}
	want := "hybrid v1=[blkio cpu cpuacct cpuset devices freezer memory pids name=systemd] unified=" +
		root + "/unified controllers=[hugetlb]"
	if got := l.Describe(); got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if !l.hugetlbInUnified() {
		t.Error("hugetlb limits would not go to the unified hierarchy")
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{V1: "v1", Hybrid: "hybrid", V2: "v2", 0: "unknown"} {
		if m.String() != want {
			t.Errorf("%d: %q, want %q", int(m), m.String(), want)
		}
	}
}
