// Package cgroups is nsvirt's resource control: it finds the host's cgroup
// layout (v1, v2 or hybrid), creates a domain's cgroup, applies its limits,
// reads back statistics, freezes, kills and removes it. It builds on
// github.com/opencontainers/cgroups and takes its own small Resources
// type: it knows nothing of libvirt XML, RPC or the driver.
package cgroups

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// Mode is the host's cgroup layout.
type Mode int

// Layouts.
const (
	// V1 has only cgroup v1 hierarchies.
	V1 Mode = iota + 1
	// Hybrid has cgroup v1 hierarchies plus a cgroup2 mount (usually at
	// /sys/fs/cgroup/unified) that holds few or no controllers.
	Hybrid
	// V2 has the unified hierarchy alone, at /sys/fs/cgroup.
	V2
)

// String names the layout: "v1", "hybrid" or "v2".
func (m Mode) String() string {
	switch m {
	case V1:
		return "v1"
	case Hybrid:
		return "hybrid"
	case V2:
		return "v2"
	}
	return "unknown"
}

// Hierarchy is one mounted cgroup v1 hierarchy.
type Hierarchy struct {
	Mount   string // where it is mounted, e.g. /sys/fs/cgroup/cpu
	Options string // its controllers as mount options, e.g. "cpu" or "name=systemd"
}

// Layout is where the host's cgroup file systems are.
type Layout struct {
	Mode Mode
	// V1 maps each v1 controller (and "name=X" hierarchies) to its
	// hierarchy. Co-mounted controllers share one.
	V1 map[string]Hierarchy
	// Unified is the mount point of cgroup2, if any.
	Unified string
}

// v1Controllers are the controllers a v1 hierarchy may name in its mount
// options.
var v1Controllers = map[string]bool{
	"cpu": true, "cpuacct": true, "cpuset": true, "memory": true, "devices": true,
	"freezer": true, "blkio": true, "pids": true, "hugetlb": true, "net_cls": true,
	"net_prio": true, "perf_event": true, "rdma": true, "misc": true,
}

// Detect reads the layout of the running host.
func Detect() (*Layout, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	defer f.Close()
	return DetectFrom(f)
}

// DetectFrom reads a layout from a mountinfo table.
func DetectFrom(r io.Reader) (*Layout, error) {
	mounts, err := mountinfo.GetMountsFromReader(r, func(m *mountinfo.Info) (skip, stop bool) {
		return m.FSType != "cgroup" && m.FSType != "cgroup2", false
	})
	if err != nil {
		return nil, fmt.Errorf("parse mount table: %w", err)
	}
	l := &Layout{V1: map[string]Hierarchy{}}
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			if l.Unified == "" || m.Mountpoint == "/sys/fs/cgroup" {
				l.Unified = m.Mountpoint
			}
			continue
		}
		var ctrls []string
		for _, o := range strings.Split(m.VFSOptions, ",") {
			if v1Controllers[o] || strings.HasPrefix(o, "name=") {
				ctrls = append(ctrls, o)
			}
		}
		h := Hierarchy{Mount: m.Mountpoint, Options: strings.Join(ctrls, ",")}
		for _, c := range ctrls {
			if _, dup := l.V1[c]; !dup {
				l.V1[c] = h
			}
		}
	}
	l.Mode = l.mode()
	if l.Mode == 0 {
		return nil, fmt.Errorf("no cgroup file system is mounted")
	}
	return l, nil
}

// mode tells the layout from the mounts found: v1 hierarchies that hold
// only named ones (such as name=systemd for old containers) beside
// cgroup2 leave a host v2.
func (l *Layout) mode() Mode {
	controllers := false
	for c := range l.V1 {
		controllers = controllers || !strings.HasPrefix(c, "name=")
	}
	switch {
	case l.Unified != "" && controllers:
		return Hybrid
	case l.Unified != "":
		return V2
	case len(l.V1) > 0:
		return V1
	}
	return 0
}

// Hierarchies returns the distinct v1 hierarchies, sorted by mount point.
func (l *Layout) Hierarchies() []Hierarchy {
	seen := map[string]bool{}
	var out []Hierarchy
	for _, h := range l.V1 {
		if !seen[h.Mount] {
			seen[h.Mount] = true
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Mount < out[j].Mount })
	return out
}

// Describe summarises the layout for the log.
func (l *Layout) Describe() string {
	var hs []string
	for _, h := range l.Hierarchies() {
		hs = append(hs, h.Options)
	}
	s := l.Mode.String()
	if len(hs) > 0 {
		s += " v1=[" + strings.Join(hs, " ") + "]"
	}
	if l.Unified != "" {
		s += " unified=" + l.Unified
		if b, err := os.ReadFile(filepath.Join(l.Unified, "cgroup.controllers")); err == nil {
			s += " controllers=[" + strings.TrimSpace(string(b)) + "]"
		}
	}
	return s
}

// ContainerMounts says what a container with its own cgroup namespace
// should mount under /sys/fs/cgroup to mirror the host: the v1 hierarchies
// (by mount options) and where the unified hierarchy goes ("." for a v2
// host, the directory name under /sys/fs/cgroup for a hybrid one). A v2
// host gets no v1 hierarchies: nothing can be mounted inside cgroup2.
func (l *Layout) ContainerMounts() (v1 []string, unified string) {
	if l.Mode == V2 {
		return nil, "."
	}
	for _, h := range l.Hierarchies() {
		v1 = append(v1, h.Options)
	}
	if l.Mode == Hybrid {
		unified = filepath.Base(l.Unified)
	}
	return v1, unified
}

// Has reports whether the host has controller, in a v1 hierarchy or in
// the unified hierarchy's cgroup.controllers.
func (l *Layout) Has(controller string) bool {
	if _, ok := l.V1[controller]; ok {
		return true
	}
	return l.unifiedHas(controller)
}

// unifiedHas reports whether the unified hierarchy's root offers
// controller.
func (l *Layout) unifiedHas(controller string) bool {
	if l.Unified == "" {
		return false
	}
	b, err := os.ReadFile(filepath.Join(l.Unified, "cgroup.controllers"))
	return err == nil && hasWord(string(b), controller)
}

// hugetlbInUnified reports whether hugetlb limits go to the unified
// hierarchy of a hybrid host, which has no v1 hugetlb hierarchy.
func (l *Layout) hugetlbInUnified() bool {
	_, v1 := l.V1["hugetlb"]
	return l.Mode == Hybrid && !v1
}
