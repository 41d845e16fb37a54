package driver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"libvirt.org/go/libvirtxml"

	"github.com/nsvirt/nsvirt/cgroups"
	"github.com/nsvirt/nsvirt/driver/container"
	"github.com/nsvirt/nsvirt/driver/monitor"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// initTimeout bounds how long the init helper may take to build the
// container and exec init.
const initTimeout = 30 * time.Second

// startOptions are the per-start choices of the caller.
type startOptions struct {
	owner  uint64     // connection that asked for AUTODESTROY, or 0
	files  []*os.File // descriptors passed to init as 3, 4, ...
	reboot bool       // a restart after a reboot: report a reboot event
}

// starter runs the named steps of one container start and undoes the
// completed ones when a later step fails, so that a failed start leaves
// nothing behind.
type starter struct {
	d    *Driver
	dom  *domain
	def  *xmlconf.Domain // the definition being started (becomes live)
	opts startOptions
	plan *startPlan
	rt   *runtime

	masters, slaves []*os.File
	syncParent      *os.File
	syncChild       *os.File
	loopFiles       []*os.File
	undo            []func()
}

// start starts dom with definition def. The caller holds dom's job lock.
func (d *Driver) start(dom *domain, def *xmlconf.Domain, opts startOptions) error {
	s := &starter{d: d, dom: dom, def: def.Clone(), opts: opts, rt: newRuntime(opts.owner)}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"plan", s.makePlan},
		{"check host paths", s.checkPaths},
		{"loop devices", s.attachLoops},
		{"device nodes", s.resolveDevices},
		{"shared namespaces", s.resolveNamespaces},
		{"consoles", s.openConsoles},
		{"monitor", s.spawnMonitor},
		{"cgroup", s.createCgroup},
		{"network", s.setupNetwork},
		{"init", s.releaseInit},
	}
	defer s.closeFiles()
	for _, step := range steps {
		t0 := time.Now()
		err := step.fn()
		d.log.Debug("start step", "domain", dom.name, "step", step.name, "took", time.Since(t0))
		if err != nil {
			d.log.Debug("start failed", "domain", dom.name, "step", step.name, "err", err)
			s.rollback()
			var de *Error
			if errors.As(err, &de) {
				return err
			}
			return errorf(KindOperationFailed, "start %s: %w", dom.name, err)
		}
	}
	s.commit()
	return nil
}

func (s *starter) rollback() {
	for i := len(s.undo) - 1; i >= 0; i-- {
		s.undo[i]()
	}
	s.d.removeStatus(s.dom.name)
}

func (s *starter) closeFiles() {
	for _, list := range [][]*os.File{s.masters, s.slaves, s.loopFiles, {s.syncParent, s.syncChild}} {
		for _, f := range list {
			if f != nil {
				f.Close()
			}
		}
	}
}

func (s *starter) makePlan() error {
	p, err := planStart(s.def.Def)
	if err != nil {
		return err
	}
	s.plan = p
	if n := len(s.opts.files); n > 0 {
		// Socket activation, as libvirt's virCommandPassListenFDs: the
		// passed descriptors are 3, 4, … of init, which is PID 1.
		p.init.Env = append(p.init.Env, "LISTEN_PID=1", fmt.Sprintf("LISTEN_FDS=%d", n))
	}
	mounts, unified := s.d.layout.ContainerMounts()
	p.init.Cgroup = container.CgroupMounts{V1: mounts, Unified: unified}
	return nil
}

// checkPaths reports missing host paths before anything is created.
func (s *starter) checkPaths() error {
	root, rootLoop := s.plan.init.Root, false
	for _, l := range s.plan.loops {
		rootLoop = rootLoop || l.mount < 0
	}
	if root.Device == "" && !rootLoop {
		fi, err := os.Stat(root.Source)
		if err != nil || !fi.IsDir() {
			return errorf(KindOperationFailed, "start %s: root filesystem %s does not exist", s.dom.name, root.Source)
		}
		if err := checkRootOwner(s.dom.name, root.Source, fi, s.plan); err != nil {
			return err
		}
	}
	for _, m := range s.plan.init.Mounts {
		if m.Kind == container.MountBind {
			if _, err := os.Stat(m.Source); err != nil {
				return errorf(KindOperationFailed, "start %s: filesystem source %s does not exist", s.dom.name, m.Source)
			}
		}
	}
	for _, l := range s.plan.loops {
		if _, err := os.Stat(l.file); err != nil {
			return errorf(KindOperationFailed, "start %s: filesystem image %s does not exist", s.dom.name, l.file)
		}
	}
	return nil
}

// checkRootOwner refuses a user-namespaced container whose root file
// system does not belong to the container's root user: init would run as
// a root that owns nothing and could not write its own files.
func checkRootOwner(name, path string, fi os.FileInfo, p *startPlan) error {
	if !p.init.UserNS || path == "/" {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == p.init.RootUID {
		return nil
	}
	return errorf(KindConfigUnsupported,
		"start %s: root filesystem %s is owned by uid %d, but <idmap> maps the container's root to host uid %d; chown the tree or fix the map",
		name, path, st.Uid, p.init.RootUID)
}

// attachLoops gives each file-backed file system a loop device.
func (s *starter) attachLoops() error {
	for _, l := range s.plan.loops {
		f, dev, err := attachLoop(l.file, l.readOnly)
		if err != nil {
			return err
		}
		s.loopFiles = append(s.loopFiles, f)
		s.rt.info.Loops = append(s.rt.info.Loops, dev)
		s.undo = append(s.undo, func() { detachLoop(dev) })
		if l.mount < 0 {
			s.plan.init.Root.Device = dev
		} else {
			s.plan.init.Mounts[l.mount].Source = dev
		}
	}
	if root := &s.plan.init.Root; root.Device != "" || root.Source == "/" {
		// A device root, or the shared host tree, is mounted inside the
		// container's own mount namespace on an empty directory of the
		// state dir.
		root.Staging = filepath.Join(s.d.cfg.StateDir, s.dom.name+".root")
		if err := os.MkdirAll(root.Staging, 0o700); err != nil {
			return err
		}
	}
	return nil
}

func (s *starter) resolveDevices() error {
	for _, hd := range s.plan.devices {
		typ, major, minor, err := deviceNumber(hd.host)
		if err != nil {
			return errorf(KindOperationFailed, "start %s: %w", s.dom.name, err)
		}
		s.plan.init.Devices = append(s.plan.init.Devices, container.Device{
			Path: hd.path, Type: typ, Major: major, Minor: minor, Mode: 0o600,
		})
	}
	return nil
}

// resolveNamespaces turns <lxc:namespace> references into namespace
// files: another running domain by name, a process by PID, or an
// `ip netns` name.
func (s *starter) resolveNamespaces() error {
	for _, ref := range []struct {
		spec string
		kind string
		dst  *string
	}{
		{s.plan.shareNet, "net", &s.plan.init.ShareNet},
		{s.plan.shareIPC, "ipc", &s.plan.init.ShareIPC},
		{s.plan.shareUTS, "uts", &s.plan.init.ShareUTS},
	} {
		if ref.spec == "" {
			continue
		}
		p, err := s.d.namespacePath(ref.spec, ref.kind)
		if err != nil {
			return err
		}
		*ref.dst = p
	}
	return nil
}

func (d *Driver) namespacePath(spec, kind string) (string, error) {
	typ, value, _ := cutType(spec)
	switch typ {
	case "name":
		ref, err := d.LookupByName(value)
		if err != nil || ref.ID <= 0 {
			return "", errorf(KindOperationInvalid, "domain '%s' to share the %s namespace with is not running", value, kind)
		}
		return fmt.Sprintf("/proc/%d/ns/%s", ref.ID, kind), nil
	case "pid":
		return fmt.Sprintf("/proc/%s/ns/%s", value, kind), nil
	case "netns":
		if kind != "net" {
			return "", errorf(KindConfigUnsupported, "only a network namespace can be shared by netns name")
		}
		return path.Join("/run/netns", path.Base(value)), nil
	}
	return "", errorf(KindConfigUnsupported, "unknown namespace type '%s'", typ)
}

func cutType(spec string) (string, string, bool) {
	for i := 0; i < len(spec); i++ {
		if spec[i] == ':' {
			return spec[:i], spec[i+1:], true
		}
	}
	return spec, "", false
}

// openConsoles allocates a host pty per console. In a user namespace the
// slave belongs to the container's root.
func (s *starter) openConsoles() error {
	for range devices(s.def.Def).Consoles {
		m, sl, path, err := openPty()
		if err != nil {
			return err
		}
		s.masters, s.slaves = append(s.masters, m), append(s.slaves, sl)
		if s.plan.init.UserNS {
			_ = os.Chown(path, s.plan.init.RootUID, s.plan.init.RootGID)
		}
		s.plan.init.Consoles = append(s.plan.init.Consoles, path)
		s.rt.consoles = append(s.rt.consoles, path)
	}
	return nil
}

// spawnMonitor starts the monitor, which creates init in its new
// namespaces, blocked on the sync socket until releaseInit.
func (s *starter) spawnMonitor() error {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	s.syncParent, s.syncChild = os.NewFile(uintptr(pair[0]), "sync"), os.NewFile(uintptr(pair[1]), "sync-child")
	cfg := monitor.Config{
		Name: s.dom.name, StateDir: s.d.cfg.StateDir, Cloneflags: s.plan.clone,
		UidMappings: s.plan.uidMap, GidMappings: s.plan.gidMap,
		ConsoleLog: s.plan.consoleLog, ConsoleLogAppend: s.plan.consoleLogAppend,
	}
	spare, err := s.d.takeSpare()
	if err != nil {
		return err
	}
	proc, err := spare.Launch(cfg, monitor.Files{
		Masters: s.masters, Slaves: s.slaves, Sync: s.syncChild, Pass: s.opts.files,
	})
	s.syncChild.Close()
	s.syncChild = nil
	if err != nil {
		return err
	}
	s.rt.proc, s.rt.initPid, s.rt.monitorPid = proc, proc.InitPid, proc.Pid
	s.undo = append(s.undo, func() {
		_ = monitor.Signal(s.d.cfg.StateDir, s.dom.name, unix.SIGKILL)
		select {
		case <-proc.Done():
		case <-time.After(10 * time.Second):
		}
	})
	return nil
}

// createCgroup puts init into the domain's cgroup, named as libvirt names
// it, under the domain's partition.
func (s *starter) createCgroup() error {
	partition := "/machine"
	if r := s.def.Def.Resource; r != nil && r.Partition != "" {
		partition = r.Partition
	} else {
		s.def.Def.Resource = &libvirtxml.DomainResource{Partition: partition}
	}
	res, err := s.d.resources(s.def.Def)
	if err != nil {
		return err
	}
	loops := loopRules(s.rt.info.Loops, func(i int) bool { return s.plan.loops[i].readOnly })
	res.Devices = append(res.Devices, loops...)
	res.CountIO = append(res.CountIO, blockIDs(loops)...)
	g, err := s.d.layout.Group(path.Join(partition, cgroups.Name(s.rt.initPid, s.dom.name)), res)
	if err != nil {
		return err
	}
	if err := g.Create(s.rt.initPid); err != nil {
		return err
	}
	s.rt.group, s.rt.info.Cgroup = g, g.Path()
	s.undo = append(s.undo, func() { s.d.removeCgroup(g) })
	return nil
}

// releaseInit sends the plan, which lets init's helper build the
// container, and waits until it has exec'd init (the sync socket closes)
// or reports why it could not.
func (s *starter) releaseInit() error {
	if err := container.WritePlan(s.syncParent, &s.plan.init); err != nil {
		return fmt.Errorf("send plan to init: %w", err)
	}
	_ = s.syncParent.SetReadDeadline(time.Now().Add(initTimeout))
	b, err := io.ReadAll(s.syncParent)
	if err != nil {
		return fmt.Errorf("wait for init: %w", err)
	}
	text := strings.TrimSpace(string(b))
	if text == container.ExecMessage {
		return nil
	}
	var msg struct{ Error string }
	text = strings.TrimSpace(strings.TrimPrefix(text, container.ExecMessage))
	if json.Unmarshal([]byte(text), &msg) != nil || msg.Error == "" {
		msg.Error = "the container's init helper exited unexpectedly (see the console output)"
	}
	return errorf(KindOperationFailed, "start %s: %s", s.dom.name, msg.Error)
}

// commit records the running domain: live definition, ID, state, status
// file, exit watcher and the STARTED event.
func (s *starter) commit() {
	d, dom, rt := s.d, s.dom, s.rt
	for _, f := range s.loopFiles {
		f.Close() // the container's mount holds the device now
	}
	s.loopFiles = nil
	liveDetails(s.def.Def, rt)
	interfaceDetails(s.def.Def, rt)
	d.connectNetworks(rt, 1)
	dom.mu.Lock()
	dom.live, dom.rt, dom.id = s.def, rt, rt.initPid
	dom.state, dom.reason = StateRunning, ReasonRunningBooted
	ref := dom.refLocked()
	if err := d.saveStatus(dom); err != nil {
		d.log.Error("save domain status", "domain", dom.name, "err", err)
	}
	if s.opts.reboot {
		d.events.emit(RebootEvent{Dom: ref})
	} else {
		d.events.emit(LifecycleEvent{Dom: ref, Event: EventStarted, Detail: DetailStartedBooted})
	}
	dom.mu.Unlock()
	d.watch(dom, rt)
}

// liveDetails adds what only the running definition shows: console pty
// paths and device aliases.
func liveDetails(def *libvirtxml.Domain, rt *runtime) {
	for i := range devices(def).Consoles {
		c := &def.Devices.Consoles[i]
		if i < len(rt.consoles) {
			c.TTY = rt.consoles[i]
			c.Source = &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{Path: rt.consoles[i]}}
		}
		c.Alias = &libvirtxml.DomainAlias{Name: fmt.Sprintf("console%d", i)}
	}
}
