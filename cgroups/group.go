package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ocg "github.com/opencontainers/cgroups"
	_ "github.com/opencontainers/cgroups/devices" // device rules for v1 and v2 managers
	"github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"
)

// Group is one domain's cgroup, present in every hierarchy of the layout.
type Group struct {
	layout *Layout
	path   string // relative to each hierarchy's root, e.g. /machine/lxc-1-c1.libvirt-lxc
	mgr    ocg.Manager
	res    *ocg.Resources // r converted for the library
	r      Resources
}

// Name returns the cgroup directory name libvirt gives a container:
// lxc-ID-NAME.libvirt-lxc, with characters outside [A-Za-z0-9_-]
// escaped as libvirt's machine names are.
func Name(id int, domain string) string {
	var b strings.Builder
	for _, r := range domain {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		}
	}
	return "lxc-" + strconv.Itoa(id) + "-" + b.String() + ".libvirt-lxc"
}

// Group returns the group at path (for example "/machine/" + Name(...))
// with resources r. Nothing is created until Create.
func (l *Layout) Group(path string, r Resources) (*Group, error) {
	if !filepath.IsAbs(path) || filepath.Clean(path) != path || path == "/" {
		return nil, fmt.Errorf("invalid cgroup path %q", path)
	}
	res, err := r.convert(l)
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	g := &Group{layout: l, path: path, res: res, r: r}
	cg := &ocg.Cgroup{Path: path, Resources: res}
	if l.Mode == V2 {
		g.mgr, err = fs2.NewManager(cg, filepath.Join(l.Unified, path))
	} else {
		g.mgr, err = fs.NewManager(cg, g.Paths())
	}
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	return g, nil
}

// Path returns the group's path relative to the hierarchies' roots.
func (g *Group) Path() string { return g.path }

// Paths returns the group's directory in every hierarchy, keyed by v1
// controller ("" for the unified hierarchy), as the v1 manager wants.
func (g *Group) Paths() map[string]string {
	paths := map[string]string{}
	for c, h := range g.layout.V1 {
		paths[c] = filepath.Join(h.Mount, g.path)
	}
	if g.layout.Unified != "" {
		paths[""] = filepath.Join(g.layout.Unified, g.path)
	}
	return paths
}

// Dir returns the group's directory in the hierarchy of controller (or
// the unified hierarchy), or "" when the host has none.
func (g *Group) Dir(controller string) string {
	if g.layout.Mode == V2 {
		return filepath.Join(g.layout.Unified, g.path)
	}
	if controller == "" {
		if g.layout.Unified == "" {
			return ""
		}
		return filepath.Join(g.layout.Unified, g.path)
	}
	if h, ok := g.layout.V1[controller]; ok {
		return filepath.Join(h.Mount, g.path)
	}
	return ""
}

// Create makes the group's directories, puts pid in them (none for -1)
// and applies the resources. On failure nothing is left behind.
func (g *Group) Create(pid int) error {
	if err := g.mgr.Apply(pid); err != nil {
		g.Destroy()
		return fmt.Errorf("create cgroup %s: %w", g.path, err)
	}
	if err := g.apply(g.res, g.r); err != nil {
		g.Destroy()
		return err
	}
	return nil
}

// apply writes res through the library, then what it leaves out of r.
func (g *Group) apply(res *ocg.Resources, r Resources) error {
	if err := g.countIO(r.CountIO); err != nil {
		return fmt.Errorf("apply limits to cgroup %s: %w", g.path, err)
	}
	if err := g.clearIOMax(r.BlkioDevices); err != nil {
		return fmt.Errorf("apply limits to cgroup %s: %w", g.path, err)
	}
	if err := g.mgr.Set(res); err != nil {
		return fmt.Errorf("apply limits to cgroup %s: %w", g.path, err)
	}
	if err := g.setExtras(r); err != nil {
		return fmt.Errorf("apply limits to cgroup %s: %w", g.path, err)
	}
	return nil
}

// Attach adopts an existing group (after a daemon restart) without
// changing it.
func (g *Group) Attach() error {
	if !g.Exists() {
		return fmt.Errorf("cgroup %s does not exist", g.path)
	}
	return nil
}

// Exists reports whether the group's directory is present.
func (g *Group) Exists() bool {
	for _, c := range []string{"memory", "devices", ""} {
		if d := g.Dir(c); d != "" {
			if _, err := os.Stat(d); err == nil {
				return true
			}
		}
	}
	return false
}

// Set changes the group's resources.
func (g *Group) Set(r Resources) error {
	res, err := r.convert(g.layout)
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", g.path, err)
	}
	if err := g.apply(res, r); err != nil {
		return err
	}
	g.res, g.r = res, r
	return nil
}

// Pids returns the processes in the group.
func (g *Group) Pids() ([]int, error) {
	dir := g.Dir("memory")
	if g.layout.Mode == V2 || dir == "" {
		dir = g.Dir("")
	}
	pids, err := ocg.GetAllPids(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return pids, err
}

// Destroy removes the group's directories. The group must be empty.
func (g *Group) Destroy() error {
	if err := g.mgr.Destroy(); err != nil {
		return fmt.Errorf("remove cgroup %s: %w", g.path, err)
	}
	return nil
}

// Freeze suspends (true) or resumes (false) every task of the group.
func (g *Group) Freeze(frozen bool) error {
	state := ocg.Thawed
	if frozen {
		state = ocg.Frozen
	}
	if err := g.mgr.Freeze(state); err != nil {
		return fmt.Errorf("set cgroup %s %s: %w", g.path, state, err)
	}
	return nil
}

// Frozen reports whether the group is frozen.
func (g *Group) Frozen() (bool, error) {
	st, err := g.mgr.GetFreezerState()
	if err != nil {
		return false, fmt.Errorf("read freezer state of cgroup %s: %w", g.path, err)
	}
	return st == ocg.Frozen, nil
}

// Stats returns the group's statistics.
func (g *Group) Stats() (*ocg.Stats, error) { return g.mgr.GetStats() }
