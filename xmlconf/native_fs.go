package xmlconf

import (
	"math"
	"path"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

func (s *nativeState) setRootfs(e nativeEntry) error {
	s.rootfs = nativeValue{nativeEntry: e, set: e.value != ""}
	return nil
}

func (s *nativeState) setRootfsOptions(e nativeEntry) error {
	s.rootfsOpts = nativeValue{nativeEntry: e, set: e.value != ""}
	return nil
}

func (s *nativeState) setFstab(e nativeEntry) error {
	if e.value == "" {
		return nil
	}
	return e.errorf(ErrConfigUnsupported, "fstab files are not supported, use lxc.mount.entry lines instead")
}

// nativeStorage describes the LXC rootfs storage prefixes ("dir:PATH").
var nativeStorage = map[string]string{
	"dir": "mount", "btrfs": "mount", "lvm": "block", "loop": "file",
	"overlay": "", "overlayfs": "", "aufs": "", "zfs": "", "rbd": "", "nbd": "",
}

// buildRootfs adds the root filesystem. A path under /dev is a block
// device (libvirt's rule), any other path a mount of a host directory.
func (s *nativeState) buildRootfs(def *libvirtxml.Domain) error {
	if !s.rootfs.set {
		s.warnings.add(nativeEntry{key: "lxc.rootfs.path"}, "not set; the container shares the host's root filesystem, as with LXC")
		return nil
	}
	e := s.rootfs.nativeEntry
	kind, src, err := nativeRootfsSource(e)
	if err != nil {
		return err
	}
	s.rootPath = src
	fs := nativeFilesystem(kind, src, "/")
	if s.rootfsOpts.set {
		fs.ReadOnly = s.rootfsReadOnly()
	}
	def.Devices.Filesystems = append(def.Devices.Filesystems, fs)
	return nil
}

func nativeRootfsSource(e nativeEntry) (kind, src string, err error) {
	src = e.value
	if prefix, rest, ok := strings.Cut(src, ":"); ok && !strings.Contains(prefix, "/") {
		k, known := nativeStorage[prefix]
		switch {
		case !known:
			return "", "", e.errorf(ErrConfigUnsupported, "unknown rootfs storage type %q", prefix)
		case k == "":
			return "", "", e.errorf(ErrConfigUnsupported,
				"rootfs storage %q cannot be converted; mount it on the host and use dir:PATH", prefix)
		}
		kind, src = k, rest
	}
	if !strings.HasPrefix(src, "/") {
		return "", "", e.errorf(ErrConfigUnsupported, "rootfs path %q is not absolute", src)
	}
	switch {
	case kind == "block" && !strings.HasPrefix(src, "/dev/"):
		return "", "", e.errorf(ErrConfigUnsupported, "lvm rootfs %q is not a /dev path", src)
	case kind == "":
		kind = "mount"
		if strings.HasPrefix(src, "/dev/") {
			kind = "block"
		}
	}
	return kind, src, nil
}

func (s *nativeState) rootfsReadOnly() *libvirtxml.DomainFilesystemReadOnly {
	var ro *libvirtxml.DomainFilesystemReadOnly
	for _, o := range strings.Split(s.rootfsOpts.value, ",") {
		switch o {
		case "ro":
			ro = &libvirtxml.DomainFilesystemReadOnly{}
		case "rw", "":
		default:
			s.warnings.add(s.rootfsOpts.nativeEntry, "mount option %q has no domain XML equivalent; ignored", o)
		}
	}
	return ro
}

// nativeFilesystem returns a filesystem of the given kind (mount, block,
// file, bind) with passthrough access, as libvirt creates them.
func nativeFilesystem(kind, src, dst string) libvirtxml.DomainFilesystem {
	fs := libvirtxml.DomainFilesystem{
		AccessMode: "passthrough",
		Source:     &libvirtxml.DomainFilesystemSource{},
		Target:     &libvirtxml.DomainFilesystemTarget{Dir: dst},
	}
	switch kind {
	case "block":
		fs.Source.Block = &libvirtxml.DomainFilesystemSourceBlock{Dev: src}
	case "file":
		fs.Driver = &libvirtxml.DomainFilesystemDriver{Type: "loop", Format: "raw"}
		fs.Source.File = &libvirtxml.DomainFilesystemSourceFile{File: src}
	case "bind":
		fs.Source.Bind = &libvirtxml.DomainFilesystemSourceBind{Dir: src}
	default:
		fs.Source.Mount = &libvirtxml.DomainFilesystemSourceMount{Dir: src}
	}
	return fs
}

// nativeMount is one lxc.mount.entry, fstab style.
type nativeMount struct {
	nativeEntry
	src, dst, fstype string
	opts             []string
}

func (m nativeMount) has(opt string) bool {
	for _, o := range m.opts {
		if o == opt {
			return true
		}
	}
	return false
}

func (s *nativeState) addMount(e nativeEntry) error {
	if e.value == "" {
		s.mounts = nil
		return nil
	}
	f := strings.Fields(e.value)
	if len(f) < 4 {
		return e.errorf(ErrInvalidArg, "expected 'source target type options [dump pass]', got %q", e.value)
	}
	s.mounts = append(s.mounts, nativeMount{
		nativeEntry: e,
		src:         nativeUnescapeMount(f[0]),
		dst:         nativeUnescapeMount(f[1]),
		fstype:      f[2],
		opts:        strings.Split(f[3], ","),
	})
	return nil
}

// nativeUnescapeMount decodes the octal escapes (\040 for a space) that
// getmntent decodes in fstab fields.
func nativeUnescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// nativeBasicMounts are the mounts the driver always sets up itself; mount
// entries for them are dropped (lxc_container.c: lxcIsBasicMountLocation).
var nativeBasicMounts = map[string]bool{
	"/proc": true, "/proc/sys": true, "/proc/sys/net/ipv4": true, "/proc/sys/net/ipv6": true,
	"/sys": true, "/sys/kernel/security": true, "/sys/fs/selinux": true,
}

func (s *nativeState) buildMounts(def *libvirtxml.Domain) error {
	for _, m := range s.mounts {
		fs, ok, err := s.mountFilesystem(m)
		if err != nil {
			return err
		}
		if ok {
			def.Devices.Filesystems = append(def.Devices.Filesystems, fs)
		}
	}
	return nil
}

// mountFilesystem converts one mount entry: tmpfs becomes a ram
// filesystem, a bind a mount of the host path (or, with "relative", a bind
// of a path inside the container), a /dev source a block device.
func (s *nativeState) mountFilesystem(m nativeMount) (libvirtxml.DomainFilesystem, bool, error) {
	dst := s.mountTarget(m.dst)
	if nativeBasicMounts[dst] {
		return libvirtxml.DomainFilesystem{}, false, nil
	}
	if m.has("optional") {
		s.warnings.add(m.nativeEntry, "the optional mount option has no domain XML equivalent; the mount is required")
	}
	bind := m.has("bind") || m.has("rbind")
	var fs libvirtxml.DomainFilesystem
	switch {
	case m.fstype == "tmpfs" && !bind:
		return s.ramFilesystem(m, dst)
	case bind && m.has("relative"):
		fs = nativeFilesystem("bind", path.Clean("/"+m.src), dst)
	case bind || (m.fstype == "none" && strings.HasPrefix(m.src, "/")):
		if !strings.HasPrefix(m.src, "/") {
			return fs, false, m.errorf(ErrInvalidArg, "bind mount source %q is not absolute", m.src)
		}
		fs = nativeFilesystem("mount", m.src, dst)
	case strings.HasPrefix(m.src, "/dev/"):
		fs = nativeFilesystem("block", m.src, dst)
	default:
		s.warnings.add(m.nativeEntry, "%s mounts cannot be converted; entry for %s ignored", m.fstype, dst)
		return fs, false, nil
	}
	if m.has("ro") {
		fs.ReadOnly = &libvirtxml.DomainFilesystemReadOnly{}
	}
	return fs, true, nil
}

// mountTarget returns the target inside the container. Like LXC, it takes
// a relative target as relative to the root, and strips the rootfs path
// from an absolute target under it (older templates wrote those).
func (s *nativeState) mountTarget(dst string) string {
	dst = path.Clean("/" + dst)
	if root := path.Clean(s.rootPath); s.rootPath != "" && root != "/" {
		if rest, ok := strings.CutPrefix(dst, root+"/"); ok {
			return "/" + rest
		}
	}
	return dst
}

func (s *nativeState) ramFilesystem(m nativeMount, dst string) (libvirtxml.DomainFilesystem, bool, error) {
	fs := libvirtxml.DomainFilesystem{
		AccessMode: "passthrough",
		Target:     &libvirtxml.DomainFilesystemTarget{Dir: dst},
	}
	for _, o := range m.opts {
		size, ok := strings.CutPrefix(o, "size=")
		if !ok {
			continue
		}
		bytes, err := nativeSize(size)
		if err != nil {
			return fs, false, m.errorf(ErrInvalidArg, "tmpfs size: %v", err)
		}
		kib := bytes / 1024
		if bytes%1024 != 0 {
			kib++
		}
		if kib > math.MaxUint32 {
			return fs, false, m.errorf(ErrInvalidArg, "tmpfs size %q is too large", size)
		}
		fs.Source = &libvirtxml.DomainFilesystemSource{RAM: &libvirtxml.DomainFilesystemSourceRAM{Usage: uint(kib), Units: "KiB"}}
		if m.has("ro") {
			fs.ReadOnly = &libvirtxml.DomainFilesystemReadOnly{}
		}
		return fs, true, nil
	}
	return fs, false, m.errorf(ErrInvalidArg, "missing tmpfs size, set the size option")
}

// nativeSize parses a size with an optional unit as libvirt's
// virScaleInteger does with a default scale of bytes: k, m, g, ... and
// KiB, MiB, ... are powers of 1024, KB, MB, ... powers of 1000. Relative
// sizes (50%) are refused.
func nativeSize(s string) (uint64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, errf(ErrInvalidArg, "failed to convert size %q", s)
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return 0, errf(ErrInvalidArg, "failed to convert size %q", s)
	}
	if s[i:] == "%" {
		return 0, errf(ErrInvalidArg, "can't convert relative size %q", s)
	}
	scale, ok := nativeUnitScale(s[i:], 1)
	if !ok {
		return 0, errf(ErrInvalidArg, "unknown unit in size %q", s)
	}
	if scale > 1 && n > math.MaxUint64/scale {
		return 0, errf(ErrInvalidArg, "size %q is too large", s)
	}
	return n * scale, nil
}

// nativeUnitScale returns the multiplier of a libvirt unit name; an empty
// unit means def.
func nativeUnitScale(unit string, def uint64) (uint64, bool) {
	switch strings.ToLower(unit) {
	case "":
		return def, true
	case "b", "byte", "bytes":
		return 1, true
	}
	var base uint64
	switch {
	case len(unit) == 1 || strings.EqualFold(unit[1:], "iB"):
		base = 1024
	case len(unit) == 2 && (unit[1] == 'b' || unit[1] == 'B'):
		base = 1000
	default:
		return 0, false
	}
	power := strings.IndexByte("kmgtpe", byte(strings.ToLower(unit[:1])[0]))
	if power < 0 {
		return 0, false
	}
	scale := uint64(1)
	for i := 0; i <= power; i++ {
		scale *= base
	}
	return scale, true
}

func (s *nativeState) setArch(e nativeEntry) error {
	s.arch = nativeValue{nativeEntry: e, set: e.value != ""}
	return nil
}

// nativeArch32 lists LXC's lxc.arch names that select the 32-bit
// personality; every other name LXC accepts selects the 64-bit one.
var nativeArch32 = map[string]bool{
	"arm": true, "armel": true, "armhf": true, "armv7l": true, "athlon": true,
	"i386": true, "i486": true, "i586": true, "i686": true, "linux32": true,
	"mips": true, "mipsel": true, "ppc": true, "powerpc": true, "x86": true,
}

var nativeArch64 = map[string]bool{
	"aarch64": true, "amd64": true, "arm64": true, "linux64": true, "mips64": true,
	"mips64el": true, "ppc64": true, "ppc64el": true, "ppc64le": true, "powerpc64": true,
	"riscv64": true, "s390x": true, "x86_64": true,
}

// nativeAlias32 gives the 32-bit architecture of a 64-bit host, as the
// capabilities advertise it; nativeStaticArch is used without a host arch.
var nativeAlias32 = map[string]string{
	"x86_64": "i686", "s390x": "s390", "ppc64": "ppc", "parisc64": "parisc",
	"sparc64": "sparc", "mips64": "mips", "mips64el": "mipsel", "aarch64": "armv7l",
}

var nativeStaticArch = map[string]string{
	"x86": "i686", "i386": "i686", "i486": "i686", "i586": "i686", "i686": "i686", "athlon": "i686",
	"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64",
	"arm": "armv7l", "armel": "armv7l", "armhf": "armv7l", "armv7l": "armv7l",
	"ppc64el": "ppc64le", "ppc64le": "ppc64le", "ppc64": "ppc64", "powerpc64": "ppc64",
	"ppc": "ppc", "powerpc": "ppc", "s390x": "s390x", "mips": "mips", "mipsel": "mipsel",
	"mips64": "mips64", "mips64el": "mips64el", "riscv64": "riscv64",
}

// buildArch maps lxc.arch. LXC only uses it to pick a 32- or 64-bit
// personality, so the guest gets the host architecture or its 32-bit
// counterpart (x86 -> i686, amd64 -> x86_64 on an x86_64 host). Without a
// host architecture the LXC name is translated to libvirt's.
func (s *nativeState) buildArch(def *libvirtxml.Domain) error {
	if !s.arch.set {
		return nil
	}
	e, name := s.arch.nativeEntry, s.arch.value
	if !nativeArch32[name] && !nativeArch64[name] {
		return e.errorf(ErrConfigUnsupported, "unknown architecture %q", name)
	}
	arch := s.personalityArch(e, name)
	if arch == "" {
		s.warnings.add(e, "%s depends on the host architecture; left to the default", name)
		return nil
	}
	if static := nativeStaticArch[name]; s.opts.HostArch != "" && static != "" && static != arch {
		s.warnings.add(e, "%s only selects a %d-bit personality in LXC; using %s", name, nativeWordSize(name), arch)
	}
	def.OS.Type.Arch = arch
	return nil
}

// personalityArch returns the host's architecture of the personality an
// lxc.arch name selects.
func (s *nativeState) personalityArch(e nativeEntry, name string) string {
	host := s.opts.HostArch
	host32 := nativeArch32[host] || nativeLXCArch32[host]
	switch {
	case host == "":
		return nativeStaticArch[name]
	case nativeArch32[name] && nativeAlias32[host] != "":
		return nativeAlias32[host]
	case nativeArch32[name] && !host32:
		s.warnings.add(e, "a %s host has no 32-bit personality; using %s", host, host)
	case !nativeArch32[name] && host32:
		s.warnings.add(e, "a %s host has no 64-bit personality; using %s", host, host)
	}
	return host
}

func nativeWordSize(lxcArch string) int {
	if nativeArch32[lxcArch] {
		return 32
	}
	return 64
}
