package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	ocg "github.com/opencontainers/cgroups"
)

// userHZ is the unit of cpuacct.stat: USER_HZ ticks per second, 100 on
// every Linux architecture.
const userHZ = 100

// Usage is what a group's tasks have consumed, in plain units. A figure
// whose controller (or file) the host lacks is zero.
type Usage struct {
	// CPUTime is the CPU time of the group's tasks in nanoseconds
	// (cpuacct.usage on v1, cpu.stat usage_usec on v2).
	CPUTime uint64
	// CPUUser and CPUSystem split it into user and kernel mode, in
	// nanoseconds. On v1 they come from cpuacct.stat's USER_HZ ticks,
	// so they are multiples of 10 ms.
	CPUUser, CPUSystem uint64
	// PerCPU is CPUTime for each host CPU in nanoseconds, indexed by CPU
	// number (cpuacct.usage_percpu). It is nil on v2, which does not
	// count per CPU.
	PerCPU []uint64

	// MemoryUsage is the memory charged to the group in bytes, page
	// cache included (memory.usage_in_bytes, memory.current).
	MemoryUsage uint64
	// MemoryLimit is the group's memory limit in bytes
	// (memory.limit_in_bytes, memory.max); 0 when it has none.
	MemoryLimit uint64
	// SwapUsage is the swap used by the group in bytes
	// (memory.memsw.usage_in_bytes less MemoryUsage on v1,
	// memory.swap.current on v2).
	SwapUsage uint64
	// Cache is page cache in bytes (memory.stat total_cache on v1, file
	// on v2).
	Cache uint64
	// RSS is anonymous memory in bytes (memory.stat total_rss on v1, anon
	// on v2).
	RSS uint64
	// MajorFaults counts page faults that read from disk (memory.stat
	// pgmajfault, total_pgmajfault on v1); MinorFaults the others
	// (pgfault, which counts both kinds, less pgmajfault).
	MajorFaults, MinorFaults uint64

	// PidsCurrent is the number of tasks in the group (pids.current).
	PidsCurrent uint64

	// Block is the block I/O done by the group's tasks per device,
	// ordered by device number.
	Block []DeviceIO
}

// DeviceIO is a group's block I/O on one device.
type DeviceIO struct {
	Major, Minor uint64
	// ReadBytes and WriteBytes are the bytes transferred.
	ReadBytes, WriteBytes uint64
	// ReadOps and WriteOps count the requests completed.
	ReadOps, WriteOps uint64
}

// Usage reads what the group has consumed. Figures of controllers the
// host lacks are zero; it fails when nothing at all can be read (the
// group does not exist) or when a file holds what it cannot parse.
func (g *Group) Usage() (Usage, error) {
	var u Usage
	r := &statReader{}
	steps := []func(*statReader, *Usage) error{g.cpuUsage, g.memoryUsage, g.pidsUsage, g.blkioUsage}
	for _, step := range steps {
		if err := step(r, &u); err != nil {
			return Usage{}, fmt.Errorf("usage of cgroup %s: %w", g.path, err)
		}
	}
	if r.read == 0 {
		return Usage{}, fmt.Errorf("usage of cgroup %s: nothing readable: %w", g.path, r.missing)
	}
	return u, nil
}

// statDir returns the group's directory holding a controller's
// statistics and whether it is a v2 one: the v1 hierarchy of v1name if
// the host has one, else the unified hierarchy.
func (g *Group) statDir(v1name string) (string, bool) {
	if g.layout.Mode != V2 {
		if d := g.Dir(v1name); d != "" {
			return d, false
		}
	}
	if g.layout.Unified == "" {
		return "", false
	}
	return filepath.Join(g.layout.Unified, g.path), true
}

// cpuUsage reads CPU times.
func (g *Group) cpuUsage(r *statReader, u *Usage) error {
	dir, v2 := g.statDir("cpuacct")
	if v2 {
		st, err := r.keyed(dir, "cpu.stat")
		u.CPUTime, u.CPUUser, u.CPUSystem = st["usage_usec"]*1000, st["user_usec"]*1000, st["system_usec"]*1000
		return err
	}
	var err error
	if u.CPUTime, err = r.uint(dir, "cpuacct.usage"); err != nil {
		return err
	}
	if u.PerCPU, err = r.uints(dir, "cpuacct.usage_percpu"); err != nil {
		return err
	}
	st, err := r.keyed(dir, "cpuacct.stat")
	u.CPUUser, u.CPUSystem = st["user"]*(1e9/userHZ), st["system"]*(1e9/userHZ)
	return err
}

// memoryUsage reads memory figures and memory.stat.
func (g *Group) memoryUsage(r *statReader, u *Usage) error {
	dir, v2 := g.statDir("memory")
	files := [4]string{"memory.usage_in_bytes", "memory.limit_in_bytes", "memory.memsw.usage_in_bytes", "memory.stat"}
	if v2 {
		files = [4]string{"memory.current", "memory.max", "memory.swap.current", "memory.stat"}
	}
	var err error
	if u.MemoryUsage, err = r.uint(dir, files[0]); err != nil {
		return err
	}
	if u.MemoryLimit, err = r.limit(dir, files[1]); err != nil {
		return err
	}
	if u.SwapUsage, err = r.uint(dir, files[2]); err != nil {
		return err
	}
	if !v2 {
		u.SwapUsage = max(u.SwapUsage, u.MemoryUsage) - u.MemoryUsage // memsw counts memory too
	}
	st, err := r.keyed(dir, files[3])
	if v2 {
		u.Cache, u.RSS = st["file"], st["anon"]
		u.MajorFaults, u.MinorFaults = st["pgmajfault"], st["pgfault"]
	} else {
		u.Cache, u.RSS = total(st, "cache"), total(st, "rss")
		u.MajorFaults, u.MinorFaults = total(st, "pgmajfault"), total(st, "pgfault")
	}
	u.MinorFaults = max(u.MinorFaults, u.MajorFaults) - u.MajorFaults // pgfault counts both kinds
	return err
}

// total returns v1 memory.stat's hierarchical total_KEY, or KEY in a file
// without totals.
func total(st map[string]uint64, key string) uint64 {
	if v, ok := st["total_"+key]; ok {
		return v
	}
	return st[key]
}

// pidsUsage reads the number of tasks.
func (g *Group) pidsUsage(r *statReader, u *Usage) error {
	dir, _ := g.statDir("pids")
	var err error
	u.PidsCurrent, err = r.uint(dir, "pids.current")
	return err
}

// statReader reads statistics files, taking a missing file for zeros and
// counting the files it could read.
type statReader struct {
	read    int   // files read
	missing error // the first missing file
}

// file returns the content of dir/name; ok is false when it is missing.
func (r *statReader) file(dir, name string) (s string, ok bool, err error) {
	if dir == "" {
		err = fmt.Errorf("%s: no hierarchy holds it: %w", name, fs.ErrNotExist)
	} else {
		s, err = ocg.ReadFile(dir, name)
	}
	if errors.Is(err, fs.ErrNotExist) {
		if r.missing == nil {
			r.missing = err
		}
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", filepath.Join(dir, name), err)
	}
	r.read++
	return s, true, nil
}

// uint reads a file holding one number.
func (r *statReader) uint(dir, name string) (uint64, error) {
	s, ok, err := r.file(dir, name)
	if !ok {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", filepath.Join(dir, name), err)
	}
	return v, nil
}

// limit reads a limit: a number, or "max" and v1's huge "unlimited"
// value (the largest page-aligned int64) for none, which it returns as 0.
func (r *statReader) limit(dir, name string) (uint64, error) {
	s, ok, err := r.file(dir, name)
	if !ok {
		return 0, err
	}
	if s = strings.TrimSpace(s); s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", filepath.Join(dir, name), err)
	}
	if v >= math.MaxInt64-(1<<24) {
		return 0, nil
	}
	return v, nil
}

// uints reads a file holding numbers separated by blanks.
func (r *statReader) uints(dir, name string) ([]uint64, error) {
	s, ok, err := r.file(dir, name)
	if !ok {
		return nil, err
	}
	var out []uint64
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, name), err)
		}
		out = append(out, v)
	}
	return out, nil
}

// keyed reads a file of "KEY VALUE" lines with unsigned integer values.
func (r *statReader) keyed(dir, name string) (map[string]uint64, error) {
	s, ok, err := r.file(dir, name)
	if !ok {
		return nil, err
	}
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("parse %s: malformed line %q", filepath.Join(dir, name), line)
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, name), err)
		}
		out[f[0]] = v
	}
	return out, nil
}
