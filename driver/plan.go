package driver

import (
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"

	"github.com/moby/sys/capability"
	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/driver/container"
)

// startPlan is what starting a domain needs, computed from its definition
// without touching the host: the init helper's plan, the namespaces and
// ID maps, and the host resources to prepare.
type startPlan struct {
	init   container.Plan
	clone  uintptr
	uidMap []syscall.SysProcIDMap
	gidMap []syscall.SysProcIDMap
	// loops are file-backed file systems that need a loop device; the
	// mount at index mount of init.Mounts (or the root when mount is -1)
	// gets the device's path.
	loops []loopSpec
	// consoleLog is the first console's log file, if any.
	consoleLog       string
	consoleLogAppend bool
	// devices are host device nodes to recreate in the container.
	devices  []hostDevice
	shareNet string // namespaces to join, as <lxc:namespace> names them
	shareIPC string
	shareUTS string
}

// hostDevice is a host device node (host) shown in the container at path.
type hostDevice struct {
	host, path string
	readOnly   bool
}

type loopSpec struct {
	file     string
	readOnly bool
	mount    int
}

// planStart translates a definition into a start plan.
func planStart(def *libvirtxml.Domain) (*startPlan, error) {
	p := &startPlan{clone: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC}
	p.init.Name, p.init.UUID = def.Name, def.UUID
	steps := []func(*libvirtxml.Domain, *startPlan) error{
		planConsoles, planFilesystems, planNamespaces, planIDMap, planInit, planCapabilities, planDevices,
	}
	for _, step := range steps {
		if err := step(def, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func devices(def *libvirtxml.Domain) *libvirtxml.DomainDeviceList {
	if def.Devices == nil {
		return &libvirtxml.DomainDeviceList{}
	}
	return def.Devices
}

func planConsoles(def *libvirtxml.Domain, p *startPlan) error {
	cons := devices(def).Consoles
	if len(cons) == 0 {
		return errorf(KindConfigUnsupported, "At least one PTY console is required")
	}
	for _, c := range cons {
		if c.Source != nil && c.Source.Pty == nil {
			return errorf(KindConfigUnsupported, "Only PTY console types are supported")
		}
	}
	if l := cons[0].Log; l != nil && l.File != "" {
		p.consoleLog, p.consoleLogAppend = l.File, l.Append == "on"
	}
	return nil
}

func planFilesystems(def *libvirtxml.Domain, p *startPlan) error {
	p.init.Root.Source = "/"
	for _, fs := range devices(def).Filesystems {
		if fs.Target == nil || fs.Source == nil {
			return errorf(KindConfigUnsupported, "filesystem needs a source and a target")
		}
		m, loop, err := fsMount(fs)
		if err != nil {
			return err
		}
		if filepath.Clean(fs.Target.Dir) == "/" {
			if err := planRoot(p, m, loop); err != nil {
				return err
			}
			continue
		}
		if loop != nil {
			loop.mount = len(p.init.Mounts)
			p.loops = append(p.loops, *loop)
		}
		p.init.Mounts = append(p.init.Mounts, m)
	}
	return nil
}

func planRoot(p *startPlan, m container.Mount, loop *loopSpec) error {
	p.init.Root.ReadOnly = m.ReadOnly
	switch m.Kind {
	case container.MountBind, container.MountInner:
		p.init.Root.Source = m.Source
	case container.MountDevice:
		p.init.Root.Device = m.Source
		if loop != nil {
			loop.mount = -1
			p.loops = append(p.loops, *loop)
		}
	default:
		return errorf(KindConfigUnsupported, "a %s filesystem cannot be the root", m.Kind)
	}
	return nil
}

// fsMount maps one <filesystem> to a mount. File-backed file systems get
// a loop device at start; only raw images through loop are supported.
func fsMount(fs libvirtxml.DomainFilesystem) (container.Mount, *loopSpec, error) {
	m := container.Mount{Target: fs.Target.Dir, ReadOnly: fs.ReadOnly != nil}
	src := fs.Source
	switch {
	case src.Mount != nil:
		m.Kind, m.Source = container.MountBind, src.Mount.Dir
	case src.Bind != nil:
		m.Kind, m.Source = container.MountInner, src.Bind.Dir
	case src.RAM != nil:
		m.Kind, m.Source, m.Size = container.MountTmpfs, "tmpfs", ramBytes(src.RAM)
	case src.Block != nil:
		m.Kind, m.Source = container.MountDevice, src.Block.Dev
	case src.File != nil:
		if d := fs.Driver; d != nil && (d.Type != "" && d.Type != "loop" || d.Format != "" && d.Format != "raw") {
			return m, nil, errorf(KindConfigUnsupported, "filesystem %s: only raw images through a loop device are supported", src.File.File)
		}
		m.Kind = container.MountDevice
		return m, &loopSpec{file: src.File.File, readOnly: m.ReadOnly}, nil
	default:
		return m, nil, errorf(KindConfigUnsupported, "Cannot mount filesystem type for target %s", fs.Target.Dir)
	}
	return m, nil, nil
}

// ramBytes returns a ram file system's size; definitions are normalised
// to KiB, and usage without units is KiB in libvirt.
func ramBytes(r *libvirtxml.DomainFilesystemSourceRAM) uint64 {
	scale := uint64(1024)
	switch strings.ToLower(r.Units) {
	case "b", "bytes":
		scale = 1
	case "m", "mib":
		scale = 1 << 20
	case "g", "gib":
		scale = 1 << 30
	}
	return uint64(r.Usage) * scale
}

// planNamespaces chooses the namespaces: always mount, PID, UTS and IPC
// (unless shared), a network namespace when the domain has interfaces,
// a network host device or <privnet/>, and none when it shares one.
func planNamespaces(def *libvirtxml.Domain, p *startPlan) error {
	if ns := def.LXCNamespace; ns != nil {
		p.shareNet, p.shareIPC, p.shareUTS = nsRef(ns.ShareNet), nsRef(ns.ShareIPC), nsRef(ns.ShareUTS)
	}
	wantNet := len(devices(def).Interfaces) > 0 || def.Features != nil && def.Features.PrivNet != nil
	for _, h := range devices(def).Hostdevs {
		if h.CapsNet != nil {
			wantNet = true
		}
	}
	if p.shareNet != "" && wantNet {
		return errorf(KindConfigUnsupported, "a domain sharing a network namespace cannot have its own interfaces or privnet")
	}
	if wantNet {
		p.clone |= syscall.CLONE_NEWNET
		p.init.NetNS = true
	}
	if p.shareIPC != "" {
		p.clone &^= syscall.CLONE_NEWIPC
	}
	if p.shareUTS != "" {
		p.clone &^= syscall.CLONE_NEWUTS
	} else {
		p.init.Hostname = Hostname(def.Name)
	}
	return nil
}

func nsRef(m *libvirtxml.DomainLXCNamespaceMap) string {
	if m == nil {
		return ""
	}
	return m.Type + ":" + m.Value
}

// Hostname returns the container hostname libvirt derives from a domain
// name: only letters, digits and dashes, without a leading dash.
func Hostname(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	return strings.TrimLeft(b.String(), "-")
}

// planIDMap gives the container a user namespace when both uid and gid
// maps are defined, as libvirt does.
func planIDMap(def *libvirtxml.Domain, p *startPlan) error {
	m := def.IDMap
	if m == nil || len(m.UIDs) == 0 || len(m.GIDs) == 0 {
		return nil
	}
	conv := func(rs []libvirtxml.DomainIDMapRange) []syscall.SysProcIDMap {
		var out []syscall.SysProcIDMap
		for _, r := range rs {
			out = append(out, syscall.SysProcIDMap{ContainerID: int(r.Start), HostID: int(r.Target), Size: int(r.Count)})
		}
		return out
	}
	p.uidMap, p.gidMap = conv(m.UIDs), conv(m.GIDs)
	p.clone |= syscall.CLONE_NEWUSER
	p.init.UserNS = true
	p.init.RootUID, p.init.RootGID = hostID(p.uidMap, 0), hostID(p.gidMap, 0)
	return nil
}

// hostID maps container id to the host through m, or -1.
func hostID(m []syscall.SysProcIDMap, id int) int {
	for _, r := range m {
		if id >= r.ContainerID && id < r.ContainerID+r.Size {
			return r.HostID + id - r.ContainerID
		}
	}
	return -1
}

func planInit(def *libvirtxml.Domain, p *startPlan) error {
	os := def.OS
	if os == nil || os.Init == "" {
		return errorf(KindConfigUnsupported, "init binary must be specified")
	}
	p.init.Init = append([]string{os.Init}, os.InitArgs...)
	p.init.Dir, p.init.User, p.init.Group = os.InitDir, os.InitUser, os.InitGroup
	env := []string{
		"PATH=/bin:/sbin", "TERM=linux", "container=lxc-libvirt", "HOME=/",
		"container_uuid=" + def.UUID, "LIBVIRT_LXC_UUID=" + def.UUID, "LIBVIRT_LXC_NAME=" + def.Name,
	}
	if n := len(devices(def).Consoles); n > 1 {
		var ttys []string
		for i := 1; i < n; i++ {
			ttys = append(ttys, fmt.Sprintf("pts/%d", i))
		}
		env = append(env, "container_ttys="+strings.Join(ttys, " "))
	}
	if os.Cmdline != "" {
		env = append(env, "LIBVIRT_LXC_CMDLINE="+os.Cmdline)
	}
	for _, e := range os.InitEnv {
		env = append(env, e.Name+"="+e.Value)
	}
	p.init.Env = env
	return nil
}

// defaultDropped are the capabilities libvirt's default policy drops
// unless the definition turns them on. CAP_SYS_BOOT stays: every kernel
// nsvirt runs on supports reboot(2) inside a PID namespace, where it ends
// the container instead of the host.
var defaultDropped = map[string]bool{"sys_module": true, "sys_time": true, "mknod": true, "audit_control": true, "mac_admin": true}

// planCapabilities applies <features><capabilities policy=...>.
func planCapabilities(def *libvirtxml.Domain, p *startPlan) error {
	policy, states := "default", map[string]string{}
	if def.Features != nil && def.Features.Capabilities != nil {
		c := def.Features.Capabilities
		if c.Policy != "" {
			policy = c.Policy
		}
		states = capabilityStates(c)
	}
	var keep []string
	for _, c := range capability.ListKnown() {
		name := c.String()
		state := states[name]
		var on bool
		switch policy {
		case "allow":
			on = state != "off"
		case "deny":
			on = state == "on"
		case "default":
			on = state == "on" || state == "" && !defaultDropped[name]
		default:
			return errorf(KindConfigUnsupported, "unknown capabilities policy '%s'", policy)
		}
		if on {
			keep = append(keep, name)
		}
	}
	sort.Strings(keep)
	p.init.Caps = keep
	return nil
}

// capabilityStates reads the per-capability elements by their XML names.
func capabilityStates(c *libvirtxml.DomainFeatureCapabilities) map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, ok := v.Field(i).Interface().(*libvirtxml.DomainFeatureCapability)
		if !ok || f == nil {
			continue
		}
		name := strings.ToLower(strings.Split(t.Field(i).Tag.Get("xml"), ",")[0])
		state := f.State
		if state == "" {
			state = "on"
		}
		out[name] = state
	}
	return out
}

// planDevices adds the device nodes of local block disks and of host
// devices of mode 'capabilities'.
func planDevices(def *libvirtxml.Domain, p *startPlan) error {
	for _, h := range devices(def).Hostdevs {
		switch {
		case h.CapsStorage != nil && h.CapsStorage.Source != nil:
			b := h.CapsStorage.Source.Block
			p.devices = append(p.devices, hostDevice{host: b, path: b})
		case h.CapsMisc != nil && h.CapsMisc.Source != nil:
			c := h.CapsMisc.Source.Char
			p.devices = append(p.devices, hostDevice{host: c, path: c})
		}
	}
	for _, d := range devices(def).Disks {
		if d.Source != nil && d.Source.Block != nil && d.Target != nil {
			p.devices = append(p.devices, hostDevice{host: d.Source.Block.Dev, path: "/dev/" + d.Target.Dev, readOnly: d.ReadOnly != nil})
		}
	}
	return nil
}
