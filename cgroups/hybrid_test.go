package cgroups

import (
	"strings"
	"testing"
)

// TestHugetlbHybrid checks hugetlb limits on a hybrid host whose v1
// hierarchies lack hugetlb while its unified one offers it (as on the
// reference host): the controller is enabled down to the group's parent
// and the limits go to the unified group.
func TestHugetlbHybrid(t *testing.T) {
	limits := Resources{Hugepages: []HugepageLimit{{PageSize: "2MB", Limit: gib}, {PageSize: "1GB", Limit: 2 * gib}}}
	cases := []resourceCase{
		{name: "enabled on the way", prep: func(f *fakeHost) {
			f.set("unified"+testGroup+"/hugetlb.2MB.rsvd.max", "max")
		}, r: limits, want: map[string]string{
			"unified/cgroup.subtree_control":                "+hugetlb",
			"unified/machine/cgroup.subtree_control":        "+hugetlb",
			"unified" + testGroup + "/hugetlb.2MB.max":      "1073741824",
			"unified" + testGroup + "/hugetlb.2MB.rsvd.max": "1073741824",
			"unified" + testGroup + "/hugetlb.1GB.max":      "2147483648",
		}, absent: []string{"unified" + testGroup + "/hugetlb.1GB.rsvd.max"}},
		{name: "already enabled", prep: func(f *fakeHost) {
			f.set("unified/cgroup.subtree_control", "hugetlb\n")
			f.set("unified/machine/cgroup.subtree_control", "cpu hugetlb\n")
		}, r: limits, want: map[string]string{
			"unified/cgroup.subtree_control":           "hugetlb\n",
			"unified/machine/cgroup.subtree_control":   "cpu hugetlb\n",
			"unified" + testGroup + "/hugetlb.2MB.max": "1073741824",
		}},
		{name: "other limits stay in v1", r: Resources{MemoryLimit: 256 * mib, CPUShares: 512, PidsMax: 10},
			want: map[string]string{
				"memory.limit_in_bytes": "268435456", "cpu.shares": "512", "pids.max": "10",
				"unified/cgroup.subtree_control": "",
			}, absent: []string{"unified" + testGroup + "/memory.max", "unified" + testGroup + "/cpu.weight"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runCase(t, Hybrid, c) })
	}
}

func TestHugetlbHybridUnavailable(t *testing.T) {
	f := newFakeHost(t, Hybrid)
	f.set("unified/cgroup.controllers", "")
	g := f.group(Resources{})
	err := g.Set(Resources{Hugepages: []HugepageLimit{{PageSize: "2MB", Limit: gib}}})
	if err == nil || !strings.Contains(err.Error(), "hugetlb controller is not available") {
		t.Errorf("error %v, want one saying hugetlb is not available", err)
	}
	f.absent([]string{"unified" + testGroup + "/hugetlb.2MB.max"})
}

func TestAncestors(t *testing.T) {
	cases := []struct{ path, want string }{
		{"/machine/lxc-1-c1.libvirt-lxc", "/u /u/machine"},
		{"/lxc-1-c1", "/u"},
		{"/a/b/c", "/u /u/a /u/a/b"},
	}
	for _, c := range cases {
		if got := strings.Join(ancestors("/u", c.path), " "); got != c.want {
			t.Errorf("ancestors(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}
