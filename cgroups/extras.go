package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	ocg "github.com/opencontainers/cgroups"
)

// setExtras writes what convert leaves out of the library's resources:
// block I/O weights (the library picks blkio.weight or blkio.bfq.weight
// once per process and converts io.weight), cpu.max on v2 (the library
// resets the half not given), the soft limit on v2 (memory.high, as
// libvirt writes it) and hugetlb limits held by a hybrid host's unified
// hierarchy (the library's v1 manager knows only v1 hugetlb).
func (g *Group) setExtras(r Resources) error {
	if err := g.setBlkioWeights(r); err != nil {
		return err
	}
	if g.layout.Mode == V2 {
		if err := g.setCPUMax(r.CPUPeriod, r.CPUQuota); err != nil {
			return err
		}
		if err := g.setMemoryHigh(r.MemorySoftLimit); err != nil {
			return err
		}
	}
	if g.layout.hugetlbInUnified() {
		return g.setUnifiedHugetlb(r.Hugepages)
	}
	return nil
}

// setMemoryHigh writes a v2 soft limit to memory.high: bytes, or "max"
// for Unlimited; zero leaves it alone.
func (g *Group) setMemoryHigh(soft int64) error {
	switch soft {
	case 0:
		return nil
	case Unlimited:
		return writeFile(g.Dir(""), "memory.high", "max")
	}
	return writeFile(g.Dir(""), "memory.high", strconv.FormatInt(soft, 10))
}

// setBlkioWeights writes the group weight and the per-device weights.
func (g *Group) setBlkioWeights(r Resources) error {
	var devs []BlkioDevice
	for _, d := range r.BlkioDevices {
		if d.Weight != 0 || d.ResetWeight {
			devs = append(devs, d)
		}
	}
	if r.BlkioWeight == 0 && len(devs) == 0 {
		return nil
	}
	if g.layout.Mode == V2 {
		return setIOWeights(g.Dir(""), r.BlkioWeight, devs)
	}
	dir := g.Dir("blkio")
	if dir == "" {
		return errors.New("set blkio weight: the blkio controller is not mounted")
	}
	// CFQ's files, or BFQ's on kernels without CFQ (5.0 and later).
	weight, device := "blkio.weight", "blkio.weight_device"
	if !fileExists(dir, weight) {
		weight, device = "blkio.bfq.weight", "blkio.bfq.weight_device"
	}
	if r.BlkioWeight != 0 {
		if err := writeFile(dir, weight, strconv.Itoa(int(r.BlkioWeight))); err != nil {
			return err
		}
	}
	for _, d := range devs {
		if err := writeFile(dir, device, deviceValue(d, weightValue(d, device == "blkio.weight_device"))); err != nil {
			return err
		}
	}
	return nil
}

// weightValue is what a device weight file takes for d: its weight, or
// for a reset "default" (BFQ's and v2's files; BFQ refuses 0 with
// ERANGE), or 0 in CFQ's blkio.weight_device, which 0 clears.
func weightValue(d BlkioDevice, cfq bool) string {
	switch {
	case d.Weight != 0:
		return strconv.Itoa(int(d.Weight))
	case cfq:
		return "0"
	}
	return "default"
}

// setIOWeights writes weights on v2 as libvirt does: io.bfq.weight when
// the kernel has BFQ, else io.weight's default, unconverted. Device
// weights go where the group weight goes, when that file takes them.
func setIOWeights(dir string, weight uint16, devs []BlkioDevice) error {
	bfq := fileExists(dir, "io.bfq.weight")
	deviceFile := "io.weight"
	if bfq && bfqTakesDevices(dir) {
		deviceFile = "io.bfq.weight"
	}
	if weight != 0 {
		file, value := "io.weight", "default "+strconv.Itoa(int(weight))
		if bfq {
			file, value = "io.bfq.weight", strconv.Itoa(int(weight))
		}
		if err := writeFile(dir, file, value); err != nil {
			return err
		}
	}
	for _, d := range devs {
		if err := writeFile(dir, deviceFile, deviceValue(d, weightValue(d, false))); err != nil {
			return err
		}
	}
	return nil
}

// bfqTakesDevices reports whether io.bfq.weight accepts per-device
// weights (Linux 5.4 and later show "default N" in it).
func bfqTakesDevices(dir string) bool {
	s, err := ocg.ReadFile(dir, "io.bfq.weight")
	return err == nil && strings.HasPrefix(strings.TrimSpace(s), "default")
}

// setCPUMax changes the given halves of v2's cpu.max ("QUOTA PERIOD") and
// keeps the other, as libvirt does.
func (g *Group) setCPUMax(period uint64, quota int64) error {
	if period == 0 && quota == 0 {
		return nil
	}
	dir := g.Dir("")
	q, p := "max", "100000"
	s, err := ocg.ReadFile(dir, "cpu.max")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", filepath.Join(dir, "cpu.max"), err)
	}
	if f := strings.Fields(s); len(f) == 2 {
		q, p = f[0], f[1]
	}
	switch {
	case quota < 0:
		q = "max"
	case quota > 0:
		q = strconv.FormatInt(quota, 10)
	}
	if period != 0 {
		p = strconv.FormatUint(period, 10)
	}
	return writeFile(dir, "cpu.max", q+" "+p)
}

// setUnifiedHugetlb writes hugetlb limits in the unified hierarchy of a
// hybrid host, first enabling the controller for the group.
func (g *Group) setUnifiedHugetlb(limits []HugepageLimit) error {
	if len(limits) == 0 {
		return nil
	}
	if err := g.enableUnified("hugetlb"); err != nil {
		return err
	}
	dir := g.Dir("")
	for _, h := range limits {
		v := strconv.FormatUint(h.Limit, 10)
		if err := writeFile(dir, "hugetlb."+h.PageSize+".max", v); err != nil {
			return err
		}
		if rsvd := "hugetlb." + h.PageSize + ".rsvd.max"; fileExists(dir, rsvd) {
			if err := writeFile(dir, rsvd, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// enableUnified turns controller on in cgroup.subtree_control from the
// unified hierarchy's root down to the group's parent, as systemd does on
// a v2 host, so that the group has the controller's files.
func (g *Group) enableUnified(controller string) error {
	if !g.layout.unifiedHas(controller) {
		return fmt.Errorf("the %s controller is not available in %s", controller, g.layout.Unified)
	}
	for _, dir := range ancestors(g.layout.Unified, g.path) {
		s, err := ocg.ReadFile(dir, "cgroup.subtree_control")
		if err != nil {
			return fmt.Errorf("enable %s in %s: %w", controller, dir, err)
		}
		if hasWord(strings.ReplaceAll(s, "+", ""), controller) {
			continue
		}
		if err := writeFile(dir, "cgroup.subtree_control", "+"+controller); err != nil {
			return fmt.Errorf("enable %s: %w", controller, err)
		}
	}
	return nil
}

// ancestors returns root and the directories below it down to the parent
// of path.
func ancestors(root, path string) []string {
	dirs := []string{root}
	rel := strings.Trim(filepath.Dir(path), "/")
	if rel == "" {
		return dirs
	}
	d := root
	for _, part := range strings.Split(rel, "/") {
		d = filepath.Join(d, part)
		dirs = append(dirs, d)
	}
	return dirs
}

// deviceValue is "MAJOR:MINOR value", as per-device cgroup files take it.
func deviceValue(d BlkioDevice, value string) string {
	return fmt.Sprintf("%d:%d %s", d.Major, d.Minor, value)
}

// writeFile writes value to the cgroup file dir/name.
func writeFile(dir, name, value string) error {
	if err := ocg.WriteFile(dir, name, value); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// fileExists reports whether dir/name exists.
func fileExists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// hasWord reports whether the space-separated list s holds word.
func hasWord(s, word string) bool {
	for _, w := range strings.Fields(s) {
		if w == word {
			return true
		}
	}
	return false
}

// countIO makes cgroup v1 count the I/O of devs. Since Linux 6.x the v1
// blkio.throttle.io_service* counters only move for a device whose queue
// has block throttling switched on, which happens when a throttle rule is
// first written for it by any group. Writing "MAJ:MIN 0" (0: no limit)
// switches it on without limiting anything. It runs before the domain's
// own throttle rules are written, so it never clears one of them. v2
// counts every device in io.stat.
func (g *Group) countIO(devs []DeviceID) error {
	if g.layout.Mode == V2 || len(devs) == 0 {
		return nil
	}
	dir := g.Dir("blkio")
	if dir == "" {
		return nil
	}
	for _, d := range devs {
		if err := writeFile(dir, "blkio.throttle.read_bps_device", fmt.Sprintf("%d:%d 0", d.Major, d.Minor)); err != nil {
			return fmt.Errorf("count I/O of device %d:%d: %w", d.Major, d.Minor, err)
		}
	}
	return nil
}

// clearIOMax removes the v2 limits a listed device has at zero (v2
// ignores a zero limit). It runs before the library writes the others.
func (g *Group) clearIOMax(devs []BlkioDevice) error {
	if g.layout.Mode != V2 {
		return nil
	}
	for _, d := range devs {
		var keys []string
		for key, v := range map[string]uint64{"rbps": d.ReadBps, "wbps": d.WriteBps, "riops": d.ReadIOPS, "wiops": d.WriteIOPS} {
			if v == 0 {
				keys = append(keys, key+"=max")
			}
		}
		if len(keys) == 0 {
			continue
		}
		sort.Strings(keys)
		if err := writeFile(g.Dir(""), "io.max", fmt.Sprintf("%d:%d %s", d.Major, d.Minor, strings.Join(keys, " "))); err != nil {
			return err
		}
	}
	return nil
}
