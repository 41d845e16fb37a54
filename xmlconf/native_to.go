package xmlconf

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// ToNative converts a domain into an LXC 5 container configuration (the
// reverse of FromNative; libvirt has no such conversion). It writes LXC 5
// key names only: lxc.uts.name, lxc.arch, lxc.rootfs.path ("dir:PATH" for a
// host directory, the device for a block root, "loop:FILE" or "nbd:FILE"
// for an image), lxc.mount.entry, lxc.idmap, lxc.net.N.*, lxc.tty.max,
// lxc.cap.drop or lxc.cap.keep, lxc.cgroup2.* and lxc.init.*.
//
// Resource limits use the cgroup v2 files (lxc.cgroup2.*), which LXC 5
// applies on the unified hierarchy that current hosts use (LXC 5 ignores
// lxc.cgroup.* keys there, as it ignores lxc.cgroup2.* keys on a host with
// only cgroup v1), with the values libvirt's cgroup v2 backend writes for
// the same elements: <shares> unchanged as cpu.weight, <soft_limit> as
// memory.high, <swap_hard_limit> as memory.swap.max. <idmap> is written in
// LXC's order, container id first. Elements with no LXC equivalent become
// "# nsvirt: ..." comment lines that say what was not converted; a value
// that LXC would read differently (an init argument with a space, a user
// name instead of a number, a name longer than a hostname) is an error.
func ToNative(d *Domain) (string, error) {
	if d == nil || d.Def == nil {
		return "", errf(ErrInvalidArg, "lxc config: no domain to convert")
	}
	w := &nativeWriter{def: d.Def}
	steps := []func() error{
		w.writeName, w.writeArch, w.writeFilesystems, w.writeIDMap, w.writeNets,
		w.writeConsoles, w.writeCaps, w.writeMemory, w.writeCPU, w.writeBlkio,
		w.writeInit, w.writeUnconverted,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return "", err
		}
	}
	return w.b.String(), nil
}

// nativeWriter accumulates the lines of a configuration.
type nativeWriter struct {
	def    *libvirtxml.Domain
	b      strings.Builder
	rootfs bool // a root filesystem was written: mount targets are relative
}

// set writes "key = value", quoting the value when LXC would otherwise
// trim it or strip its quotes.
func (w *nativeWriter) set(key, value string) error {
	if strings.ContainsAny(value, "\n\r\x00") {
		return errf(ErrConfigUnsupported, "lxc config: %s: value %q contains a line break", key, value)
	}
	if value != strings.TrimSpace(value) || nativeUnquote(value) != value {
		value = `"` + value + `"`
	}
	fmt.Fprintf(&w.b, "%s = %s\n", key, value)
	return nil
}

// note writes a comment about something that was not converted.
func (w *nativeWriter) note(format string, args ...any) {
	msg := strings.NewReplacer("\n", " ", "\r", " ").Replace(fmt.Sprintf(format, args...))
	w.b.WriteString("# nsvirt: " + msg + "\n")
}

func (w *nativeWriter) writeName() error {
	name := w.def.Name
	switch {
	case name == "":
		return errf(ErrConfigUnsupported, "lxc config: the domain has no name")
	case len(name) > 64:
		return errf(ErrConfigUnsupported, "lxc config: domain name %q is longer than lxc.uts.name allows (64 bytes)", name)
	}
	w.note("LXC configuration converted from the domain %q", name)
	if err := w.set("lxc.uts.name", name); err != nil {
		return err
	}
	return w.writeBasicMounts()
}

// writeBasicMounts asks LXC for what the driver always provides: /proc
// (with /proc/sys read-only), a read-only /sys, the cgroups and a private
// /dev. LXC mounts none of these unless told to.
func (w *nativeWriter) writeBasicMounts() error {
	if err := w.set("lxc.mount.auto", "proc:mixed sys:ro cgroup:mixed"); err != nil {
		return err
	}
	return w.set("lxc.autodev", "1")
}

// nativeLXCArch32 gives the LXC name of a 32-bit architecture LXC does not
// list by name; LXC only uses lxc.arch to choose the personality.
var nativeLXCArch32 = map[string]bool{"s390": true, "parisc": true, "sparc": true}

func (w *nativeWriter) writeArch() error {
	if w.def.OS == nil || w.def.OS.Type == nil || w.def.OS.Type.Arch == "" {
		return nil
	}
	arch := w.def.OS.Type.Arch
	switch {
	case nativeArch32[arch] || nativeArch64[arch]:
		return w.set("lxc.arch", arch)
	case nativeLXCArch32[arch]:
		return w.set("lxc.arch", "linux32")
	case arch == "parisc64" || arch == "sparc64":
		return w.set("lxc.arch", "linux64")
	}
	w.note("architecture %s has no lxc.arch name; not converted", arch)
	return nil
}

func (w *nativeWriter) devices() *libvirtxml.DomainDeviceList {
	if w.def.Devices == nil {
		return &libvirtxml.DomainDeviceList{}
	}
	return w.def.Devices
}

// writeFilesystems writes the root filesystem as lxc.rootfs.path and the
// others as lxc.mount.entry lines.
func (w *nativeWriter) writeFilesystems() error {
	fss := w.devices().Filesystems
	root := -1
	for i, fs := range fss {
		if fs.Target != nil && path.Clean(fs.Target.Dir) == "/" {
			root = i
			break
		}
	}
	if root >= 0 {
		if err := w.writeRootfs(fss[root]); err != nil {
			return err
		}
	}
	for i, fs := range fss {
		if i == root {
			continue
		}
		if err := w.writeMount(fs); err != nil {
			return err
		}
	}
	return nil
}

func (w *nativeWriter) writeRootfs(fs libvirtxml.DomainFilesystem) error {
	var value string
	src := fs.Source
	switch {
	case src == nil:
	case src.Mount != nil && path.Clean(src.Mount.Dir) == "/", src.Bind != nil && path.Clean(src.Bind.Dir) == "/":
		w.note("the root filesystem is the host's /; no lxc.rootfs.path, so LXC shares it too")
		return nil
	case src.Mount != nil:
		value = "dir:" + src.Mount.Dir
	case src.Block != nil:
		value = src.Block.Dev
	case src.File != nil:
		value = nativeImageRootfs(fs)
	}
	if value == "" {
		w.note("root %s is not converted; LXC would share the host's root filesystem", nativeFSDesc(fs))
		return nil
	}
	w.rootfs = true
	if err := w.set("lxc.rootfs.path", value); err != nil {
		return err
	}
	if fs.ReadOnly != nil {
		return w.set("lxc.rootfs.options", "ro")
	}
	return nil
}

// nativeImageRootfs returns the LXC storage for an image root: loop for
// raw images, nbd (qemu-nbd, which detects the format) otherwise.
func nativeImageRootfs(fs libvirtxml.DomainFilesystem) string {
	drv := fs.Driver
	switch {
	case drv == nil || drv.Type == "loop" || (drv.Type == "" && (drv.Format == "" || drv.Format == "raw")):
		return "loop:" + fs.Source.File.File
	case drv.Type == "nbd" || drv.Type == "":
		return "nbd:" + fs.Source.File.File
	}
	return ""
}

func nativeFSDesc(fs libvirtxml.DomainFilesystem) string {
	target := ""
	if fs.Target != nil {
		target = fs.Target.Dir
	}
	kind := "filesystem"
	if s := fs.Source; s != nil {
		switch {
		case s.File != nil:
			kind = "file filesystem " + s.File.File
		case s.Block != nil:
			kind = "block filesystem " + s.Block.Dev
		case s.Template != nil:
			kind = "template filesystem " + s.Template.Name
		case s.Volume != nil:
			kind = "volume filesystem " + s.Volume.Volume
		}
	}
	return fmt.Sprintf("<filesystem> %s on %q", kind, target)
}

// writeMount writes one filesystem as an fstab-style lxc.mount.entry:
// binds of host paths, binds of container paths ("relative"), tmpfs.
func (w *nativeWriter) writeMount(fs libvirtxml.DomainFilesystem) error {
	if fs.Target == nil || fs.Source == nil || fs.Target.Dir == "" {
		w.note("%s has no source or target; not converted", nativeFSDesc(fs))
		return nil
	}
	dst := path.Clean("/" + fs.Target.Dir)
	if dst == "/" {
		w.note("second root %s; not converted", nativeFSDesc(fs))
		return nil
	}
	if w.rootfs {
		dst = strings.TrimPrefix(dst, "/")
	}
	var src, fstype string
	var opts []string
	switch s := fs.Source; {
	case s.Mount != nil && s.Mount.Dir != "":
		src, fstype, opts = s.Mount.Dir, "none", []string{"bind", "create=dir"}
	case s.Bind != nil && s.Bind.Dir != "":
		src, fstype, opts = strings.TrimPrefix(path.Clean(s.Bind.Dir), "/"), "none", []string{"bind", "relative", "create=dir"}
		if src == "" {
			src = "."
		}
	case s.RAM != nil:
		size, err := nativeRAMBytes(s.RAM)
		if err != nil {
			return err
		}
		src, fstype = "tmpfs", "tmpfs"
		opts = []string{"size=" + strconv.FormatUint(size, 10), "nosuid", "nodev", "create=dir"}
	case s.Block != nil:
		w.note("%s: lxc.mount.entry needs the filesystem type, which the domain does not give; not converted", nativeFSDesc(fs))
		return nil
	default:
		w.note("%s has no LXC mount equivalent; not converted", nativeFSDesc(fs))
		return nil
	}
	if fs.ReadOnly != nil {
		opts = append(opts, "ro")
	}
	entry := strings.Join([]string{nativeEscapeMount(src), nativeEscapeMount(dst), fstype, strings.Join(opts, ","), "0", "0"}, " ")
	return w.set("lxc.mount.entry", entry)
}

func nativeRAMBytes(ram *libvirtxml.DomainFilesystemSourceRAM) (uint64, error) {
	scale, ok := nativeUnitScale(ram.Units, 1024)
	if !ok {
		return 0, errf(ErrConfigUnsupported, "lxc config: unknown unit %q of a ram filesystem", ram.Units)
	}
	if ram.Usage == 0 {
		return 0, errf(ErrConfigUnsupported, "lxc config: a ram filesystem needs a size for its tmpfs")
	}
	if uint64(ram.Usage) > math.MaxUint64/scale {
		return 0, errf(ErrConfigUnsupported, "lxc config: ram filesystem size %d %s is too large", ram.Usage, ram.Units)
	}
	return uint64(ram.Usage) * scale, nil
}

// nativeEscapeMount encodes the characters getmntent decodes.
func nativeEscapeMount(s string) string {
	return strings.NewReplacer(`\`, `\134`, " ", `\040`, "\t", `\011`, "\n", `\012`).Replace(s)
}

// writeIDMap writes "u|g NSID HOSTID RANGE": <start> is the id inside the
// container, <target> the host id.
func (w *nativeWriter) writeIDMap() error {
	if w.def.IDMap == nil {
		return nil
	}
	for _, set := range []struct {
		kind   string
		ranges []libvirtxml.DomainIDMapRange
	}{{"u", w.def.IDMap.UIDs}, {"g", w.def.IDMap.GIDs}} {
		for _, r := range set.ranges {
			v := fmt.Sprintf("%s %d %d %d", set.kind, r.Start, r.Target, r.Count)
			if err := w.set("lxc.idmap", v); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeConsoles writes one tty per PTY console (libvirt's first console is
// /dev/console and /dev/tty1).
func (w *nativeWriter) writeConsoles() error {
	n := 0
	for _, c := range w.devices().Consoles {
		if c.Source != nil && c.Source.Pty == nil {
			w.note("console of a type other than pty; not converted")
			continue
		}
		n++
	}
	if n == 0 {
		return nil
	}
	return w.set("lxc.tty.max", strconv.Itoa(n))
}

func (w *nativeWriter) writeInit() error {
	o := w.def.OS
	if o == nil {
		o = &libvirtxml.DomainOS{}
	}
	if err := w.writeInitCmd(o); err != nil {
		return err
	}
	if o.InitDir != "" {
		if err := w.set("lxc.init.cwd", o.InitDir); err != nil {
			return err
		}
	}
	for _, id := range []struct{ key, elem, value string }{
		{"lxc.init.uid", "inituser", o.InitUser}, {"lxc.init.gid", "initgroup", o.InitGroup},
	} {
		if err := w.writeInitID(id.key, id.elem, id.value); err != nil {
			return err
		}
	}
	for _, env := range o.InitEnv {
		if err := w.set("lxc.environment", env.Name+"="+env.Value); err != nil {
			return err
		}
	}
	if o.Cmdline != "" {
		w.note("<cmdline> (LIBVIRT_LXC_CMDLINE) has no LXC equivalent; not converted")
	}
	return nil
}

// writeInitCmd writes init and its arguments; LXC splits lxc.init.cmd at
// spaces, so an argument with a space cannot be written.
func (w *nativeWriter) writeInitCmd(o *libvirtxml.DomainOS) error {
	argv := append([]string{o.Init}, o.InitArgs...)
	if argv[0] == "" {
		argv[0] = "/sbin/init"
	}
	for _, a := range argv {
		if a == "" || strings.Contains(a, " ") {
			return errf(ErrConfigUnsupported, "lxc config: init argument %q cannot be written in lxc.init.cmd, which LXC splits at spaces", a)
		}
	}
	return w.set("lxc.init.cmd", strings.Join(argv, " "))
}

// writeInitID writes a numeric user or group ("N" or libvirt's "+N"); LXC
// cannot look names up in the container.
func (w *nativeWriter) writeInitID(key, elem, value string) error {
	if value == "" {
		return nil
	}
	id := strings.TrimPrefix(value, "+")
	if _, err := strconv.ParseUint(id, 10, 32); err != nil {
		return errf(ErrConfigUnsupported, "lxc config: <%s>%s</%s> is not numeric; %s takes only a number", elem, value, elem, key)
	}
	return w.set(key, id)
}

// writeUnconverted notes the remaining elements the container depends on
// that LXC cannot express.
func (w *nativeWriter) writeUnconverted() error {
	devs := w.devices()
	for _, disk := range devs.Disks {
		dev := ""
		if disk.Target != nil {
			dev = disk.Target.Dev
		}
		w.note("<disk> %q (a device node in the container) has no LXC equivalent; not converted", dev)
	}
	for _, hd := range devs.Hostdevs {
		if hd.CapsNet == nil {
			w.note("<hostdev> %s has no LXC equivalent; not converted", nativeHostdevDesc(hd))
		}
	}
	if ns := w.def.LXCNamespace; ns != nil {
		w.note("<lxc:namespace> sharing refers to libvirt domains; not converted")
	}
	if r := w.def.Resource; r != nil && r.Partition != "" && r.Partition != "/machine" {
		w.note("<resource><partition>%s</partition> is not converted; LXC places the container by lxc.cgroup.dir", r.Partition)
	}
	return nil
}

// nativeHostdevDesc names a host device other than a network interface.
func nativeHostdevDesc(hd libvirtxml.DomainHostdev) string {
	switch {
	case hd.CapsStorage != nil && hd.CapsStorage.Source != nil:
		return "storage " + hd.CapsStorage.Source.Block
	case hd.CapsMisc != nil && hd.CapsMisc.Source != nil:
		return "misc " + hd.CapsMisc.Source.Char
	case hd.SubsysUSB != nil:
		return "usb device"
	}
	return "device"
}
