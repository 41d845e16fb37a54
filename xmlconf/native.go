package xmlconf

// lxc-tools native configuration: conversion between LXC container configs
// (the files lxc-start reads) and domain definitions, as virsh
// domxml-from-native and domxml-to-native lxc-tools do. FromNative is in
// native*.go, ToNative in native_to*.go.

import (
	"fmt"
	"sort"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// NativeOptions control the conversion of a native configuration.
type NativeOptions struct {
	// Emulator is the controller path filled into the domain.
	Emulator string
	// HostArch is the host architecture (uname -m). LXC's lxc.arch only
	// selects a 32- or 64-bit personality; it becomes HostArch or its 32-bit
	// counterpart.
	HostArch string
}

// FromNative converts an lxc-tools container configuration (LXC "key =
// value" lines) into a completed domain, as virsh domxml-from-native
// lxc-tools does. The UUID is left to Complete. The returned warnings name
// the keys and values that were not converted; the driver logs them.
//
// It maps every key libvirt's src/lxc/lxc_native.c maps, under both the
// legacy (before LXC 3.0) and the LXC 3+ names, with libvirt's fixed
// defaults (64 MiB, one vcpu, /sbin/init, destroy/restart/destroy, the
// "allow" capability policy), and reads the file by LXC's rules where
// libvirt's differ: the last assignment wins, an empty value clears a list,
// one pair of quotes around a value is removed. Deliberate differences
// from libvirt, each so that the container starts and runs as LXC runs it:
//
//   - The rootfs storage prefix is interpreted: "dir:" and "btrfs:" give a
//     mount of the path, "lvm:" a block device, "loop:" a raw image on a
//     loop device; storage that cannot be expressed (overlay, aufs, zfs,
//     rbd, nbd) is an error. libvirt kept "dir:" in the path, so its result
//     did not start. Without lxc.rootfs.path the container shares the
//     host's root, as in LXC, with a warning (libvirt refuses).
//   - A config without ttys (lxc.tty.max 0 or absent) gets one PTY console,
//     which the driver requires to start a container.
//   - lxc.idmap is read in LXC's documented order "u|g NSID HOSTID RANGE":
//     NSID, the container id, is <start>, HOSTID <target>. libvirt swaps
//     them, so "u 0 100000 65536" mapped container uid 100000 to host root.
//   - lxc.init.cmd (split at spaces, as LXC 5 does), lxc.environment,
//     lxc.init.cwd, lxc.init.uid and lxc.init.gid become <init> and
//     <initarg>, <initenv>, <initdir>, <inituser> and <initgroup>;
//     lxc.cap.keep becomes the "deny" capability policy; lxc.cgroup2.*
//     limits map like their lxc.cgroup.* versions (the files libvirt's
//     cgroup v2 backend writes); lxc.net.N.veth.pair and lxc.net.N.mtu
//     become <target dev> and <mtu>. libvirt ignores all of these.
//   - Keys that are not converted, including the network keys that make
//     libvirt abandon the whole conversion (mtu, veth.pair, script.up, ...
//     in libvirt), give warnings and the rest converts. lxc.include files
//     are not read (no I/O here): a warning says so.
//   - lxc.arch only selects a 32- or 64-bit personality in LXC, so every
//     name LXC accepts becomes the host architecture or its 32-bit
//     counterpart (x86 -> i686, amd64 -> x86_64 on an x86_64 host).
//   - Network type "empty" gives <privnet/> (a network namespace with only
//     loopback), as in LXC; libvirt shared the host's network instead. Any
//     non-empty lxc.net.N.flags means up, as in LXC.
//   - A mount entry with the "bind" option stays a bind mount even when its
//     source is under /dev ("relative" binds become type='bind'), and a
//     target under the rootfs path is taken inside the root, as LXC does; a
//     filesystem type that cannot be mounted from the domain XML (mqueue,
//     cgroup, overlay, ...) is skipped with a warning.
func FromNative(config []byte, opts NativeOptions) (*Domain, []string, error) {
	entries, err := nativeParse(string(config))
	if err != nil {
		return nil, nil, err
	}
	s := newNativeState(opts)
	for _, e := range entries {
		if err := s.apply(e); err != nil {
			return nil, s.warnings.list(), err
		}
	}
	def, err := s.build()
	if err != nil {
		return nil, s.warnings.list(), err
	}
	d := &Domain{Def: def}
	if err := Complete(d, ParseOptions{Emulator: opts.Emulator, HostArch: opts.HostArch}); err != nil {
		return nil, s.warnings.list(), nativeContext(err)
	}
	return d, s.warnings.list(), nil
}

// nativeContext marks an error about the converted domain as such,
// keeping its kind.
func nativeContext(err error) error {
	if e, ok := err.(*Error); ok {
		return &Error{Kind: e.Kind, Msg: "lxc config: converted domain: " + e.Msg}
	}
	return fmt.Errorf("lxc config: converted domain: %w", err)
}

// nativeEntry is one "key = value" line of a native configuration.
type nativeEntry struct {
	line       int
	key, value string
}

func (e nativeEntry) errorf(kind ErrorKind, format string, args ...any) error {
	return errf(kind, "lxc config line %d: %s: %s", e.line, e.key, fmt.Sprintf(format, args...))
}

// nativeParse splits a configuration into entries by LXC's rules: blank
// lines and lines starting with '#' are skipped, key and value are trimmed,
// and one pair of matching quotes around the value is removed. Lines that
// do not start with "lxc." are kept so that they can be warned about.
func nativeParse(config string) ([]nativeEntry, error) {
	var entries []nativeEntry
	for i, raw := range strings.Split(config, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			if !strings.HasPrefix(line, "lxc.") {
				entries = append(entries, nativeEntry{line: i + 1, key: line})
				continue
			}
			return nil, errf(ErrInvalidArg, "lxc config line %d: expected 'key = value', got %q", i+1, line)
		}
		entries = append(entries, nativeEntry{
			line:  i + 1,
			key:   strings.TrimSpace(key),
			value: nativeUnquote(strings.TrimSpace(value)),
		})
	}
	return entries, nil
}

func nativeUnquote(v string) string {
	if len(v) > 1 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// nativeWarnings collects one warning per key, counting repeats, in the
// order the keys first appear.
type nativeWarnings struct {
	order []string
	byKey map[string]*nativeWarning
}

type nativeWarning struct {
	line, count int
	msg         string
}

func (w *nativeWarnings) add(e nativeEntry, format string, args ...any) {
	if w.byKey == nil {
		w.byKey = map[string]*nativeWarning{}
	}
	msg := fmt.Sprintf(format, args...)
	id := e.key + "\x00" + msg
	if x, ok := w.byKey[id]; ok {
		x.count++
		return
	}
	w.byKey[id] = &nativeWarning{line: e.line, count: 1, msg: e.key + ": " + msg}
	w.order = append(w.order, id)
}

func (w *nativeWarnings) list() []string {
	out := make([]string, 0, len(w.order))
	for _, id := range w.order {
		x := w.byKey[id]
		s := "lxc config: " + x.msg
		if x.line > 0 {
			s = fmt.Sprintf("lxc config line %d: %s", x.line, x.msg)
		}
		if x.count > 1 {
			s += fmt.Sprintf(" (%d lines)", x.count)
		}
		out = append(out, s)
	}
	return out
}

// nativeState is a configuration after LXC's assignment rules, before it
// becomes a domain.
type nativeState struct {
	opts     NativeOptions
	warnings nativeWarnings

	name       string
	rootfs     nativeValue
	rootfsOpts nativeValue
	rootPath   string // the root filesystem's source, once built
	arch       nativeValue
	mounts     []nativeMount
	ttys       int
	idmaps     []nativeIDMap
	nets       map[uint64]*nativeNet
	legacyNets []*nativeNet
	capDrop    []nativeCap
	capKeep    []nativeCap
	init       nativeInit
	res        nativeResources
}

// nativeValue is a single-valued key: the last assignment wins.
type nativeValue struct {
	nativeEntry
	set bool
}

func newNativeState(opts NativeOptions) *nativeState {
	return &nativeState{opts: opts, nets: map[uint64]*nativeNet{}}
}

type nativeHandler func(s *nativeState, e nativeEntry) error

// nativeKeys maps the keys converted by name. Network and cgroup keys are
// matched by prefix in apply.
var nativeKeys = map[string]nativeHandler{
	"lxc.uts.name":       (*nativeState).setName,
	"lxc.utsname":        (*nativeState).setName,
	"lxc.rootfs.path":    (*nativeState).setRootfs,
	"lxc.rootfs":         (*nativeState).setRootfs,
	"lxc.rootfs.options": (*nativeState).setRootfsOptions,
	"lxc.arch":           (*nativeState).setArch,
	"lxc.mount.entry":    (*nativeState).addMount,
	"lxc.mount.fstab":    (*nativeState).setFstab,
	"lxc.mount":          (*nativeState).setFstab,
	"lxc.tty.max":        (*nativeState).setTTYs,
	"lxc.tty":            (*nativeState).setTTYs,
	"lxc.idmap":          (*nativeState).addIDMap,
	"lxc.id_map":         (*nativeState).addIDMap,
	"lxc.cap.drop":       (*nativeState).addCapDrop,
	"lxc.cap.keep":       (*nativeState).addCapKeep,
	"lxc.init.cmd":       (*nativeState).setInitCmd,
	"lxc.init_cmd":       (*nativeState).setInitCmd,
	"lxc.environment":    (*nativeState).addEnv,
	"lxc.init.cwd":       (*nativeState).setInitCwd,
	"lxc.init.uid":       (*nativeState).setInitUID,
	"lxc.init_uid":       (*nativeState).setInitUID,
	"lxc.init.gid":       (*nativeState).setInitGID,
	"lxc.init_gid":       (*nativeState).setInitGID,
	"lxc.net":            (*nativeState).clearNets,
	"lxc.network":        (*nativeState).clearNets,
	"lxc.include":        (*nativeState).warnInclude,
	"lxc.cgroup":         (*nativeState).clearCgroups,
	"lxc.cgroup2":        (*nativeState).clearCgroups,
	"lxc.mount.auto":     (*nativeState).checkMountAuto,
	"lxc.autodev":        (*nativeState).checkAutodev,
}

func (s *nativeState) apply(e nativeEntry) error {
	if h, ok := nativeKeys[e.key]; ok {
		return h(s, e)
	}
	switch {
	case !strings.HasPrefix(e.key, "lxc."):
		s.warnings.add(e, "not an lxc.* key; LXC ignores it too")
		return nil
	case strings.HasPrefix(e.key, "lxc.net."):
		return s.setNetKey(e)
	case strings.HasPrefix(e.key, "lxc.network."):
		return s.setLegacyNetKey(e)
	case strings.HasPrefix(e.key, "lxc.cgroup2."):
		return s.setCgroup(e, strings.TrimPrefix(e.key, "lxc.cgroup2."), nativeCgroup2Keys)
	case strings.HasPrefix(e.key, "lxc.cgroup."):
		return s.setCgroup(e, strings.TrimPrefix(e.key, "lxc.cgroup."), nativeCgroup1Keys)
	}
	s.warnUnmapped(e)
	return nil
}

// warnUnmapped records a key nsvirt does not convert, telling LXC keys
// apart from names LXC does not know (often typing mistakes).
func (s *nativeState) warnUnmapped(e nativeEntry) {
	if nativeKnownKey(e.key) {
		s.warnings.add(e, "no domain XML equivalent; ignored")
		return
	}
	s.warnings.add(e, "unknown LXC key; ignored")
}

// nativeKnownLXCKeys are LXC keys (LXC 5 and legacy names) that nsvirt
// does not convert. Keys under nativeKnownLXCPrefixes are LXC keys too.
var nativeKnownLXCKeys = map[string]bool{
	"lxc.apparmor.allow_incomplete": true, "lxc.apparmor.allow_nesting": true,
	"lxc.apparmor.profile": true, "lxc.apparmor.raw": true, "lxc.aa_profile": true,
	"lxc.aa_allow_incomplete": true, "lxc.autodev.tmpfs.size": true,
	"lxc.console.buffer.size": true, "lxc.console.logfile": true, "lxc.console.path": true,
	"lxc.console.rotate": true, "lxc.console.size": true, "lxc.console": true,
	"lxc.ephemeral": true, "lxc.execute.cmd": true, "lxc.group": true, "lxc.init.groups": true,
	"lxc.keyring.session": true, "lxc.log.file": true, "lxc.log.level": true, "lxc.log.syslog": true,
	"lxc.loglevel": true, "lxc.logfile": true, "lxc.monitor.signal.pdeath": true,
	"lxc.monitor.unshare": true, "lxc.namespace.clone": true,
	"lxc.namespace.keep": true, "lxc.no_new_privs": true, "lxc.pty.max": true, "lxc.pts": true,
	"lxc.rootfs.managed": true, "lxc.rootfs.mount": true, "lxc.rootfs.backend": true,
	"lxc.sched.core": true, "lxc.seccomp.allow_nesting": true, "lxc.seccomp.notify.cookie": true,
	"lxc.seccomp.notify.proxy": true, "lxc.seccomp.profile": true, "lxc.seccomp": true,
	"lxc.selinux.context": true, "lxc.selinux.context.keyring": true, "lxc.se_context": true,
	"lxc.signal.halt": true, "lxc.signal.reboot": true, "lxc.signal.stop": true,
	"lxc.haltsignal": true, "lxc.rebootsignal": true, "lxc.stopsignal": true,
	"lxc.start.auto": true, "lxc.start.delay": true, "lxc.start.order": true,
	"lxc.tty.dir": true, "lxc.devttydir": true, "lxc.kmsg": true, "lxc.pivotdir": true,
	"lxc.time.offset.boot": true, "lxc.time.offset.monotonic": true, "lxc.uts": true,
	"lxc.hook.version": true, "lxc.cgroup.dir": true, "lxc.cgroup.relative": true,
	"lxc.cgroup.dir.container": true, "lxc.cgroup.dir.container.inner": true,
	"lxc.cgroup.dir.monitor": true, "lxc.cgroup.dir.monitor.pivot": true,
}

var nativeKnownLXCPrefixes = []string{
	"lxc.hook.", "lxc.limit.", "lxc.prlimit.", "lxc.sysctl.", "lxc.proc.",
	"lxc.namespace.share.", "lxc.monitor.", "lxc.keyring.",
}

func nativeKnownKey(key string) bool {
	if nativeKnownLXCKeys[key] {
		return true
	}
	for _, p := range nativeKnownLXCPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

func (s *nativeState) warnInclude(e nativeEntry) error {
	if e.value != "" {
		s.warnings.add(e, "included files are not read; merge %s into the config before converting it", e.value)
	}
	return nil
}

// checkMountAuto accepts the proc, sys and cgroup mounts of
// lxc.mount.auto, which the driver always provides (proc with /proc/sys
// read-only, sysfs read-only, the cgroups); other kinds are warned about.
func (s *nativeState) checkMountAuto(e nativeEntry) error {
	for _, m := range strings.Fields(e.value) {
		kind, _, _ := strings.Cut(m, ":")
		if kind != "proc" && kind != "sys" && kind != "cgroup" && kind != "cgroup-full" {
			s.warnings.add(e, "%s has no domain XML equivalent; ignored", m)
		}
	}
	return nil
}

// checkAutodev accepts lxc.autodev = 1: the driver always populates a
// private /dev.
func (s *nativeState) checkAutodev(e nativeEntry) error {
	if e.value != "1" && e.value != "" {
		s.warnings.add(e, "the driver always creates the container's /dev; ignored")
	}
	return nil
}

func (s *nativeState) clearCgroups(e nativeEntry) error {
	if e.value != "" {
		s.warnings.add(e, "must not have a value; ignored")
		return nil
	}
	s.res = nativeResources{}
	return nil
}

func (s *nativeState) setName(e nativeEntry) error {
	s.name = e.value
	return nil
}

// build turns the state into a domain with libvirt's fixed defaults for a
// converted container.
func (s *nativeState) build() (*libvirtxml.Domain, error) {
	if s.name == "" {
		return nil, errf(ErrConfigUnsupported, "lxc config: lxc.uts.name (or lxc.utsname) is required")
	}
	def := nativeBaseDomain(s.name)
	steps := []func(*libvirtxml.Domain) error{
		s.buildArch, s.buildRootfs, s.buildMounts, s.buildNets, s.buildConsoles,
		s.buildIDMap, s.buildResources, s.buildCaps, s.buildInit,
	}
	for _, step := range steps {
		if err := step(def); err != nil {
			return nil, err
		}
	}
	return def, nil
}

// nativeBaseDomain is libvirt's starting point for a converted container:
// 64 MiB, one vcpu, /sbin/init, destroy on poweroff and crash, restart on
// reboot, and the "allow" capability policy.
func nativeBaseDomain(name string) *libvirtxml.Domain {
	return &libvirtxml.Domain{
		Type:          "lxc",
		Name:          name,
		Memory:        &libvirtxml.DomainMemory{Value: 65536, Unit: "KiB"},
		CurrentMemory: &libvirtxml.DomainCurrentMemory{Value: 65536, Unit: "KiB"},
		VCPU:          &libvirtxml.DomainVCPU{Placement: "static", Value: 1},
		OS: &libvirtxml.DomainOS{
			Type: &libvirtxml.DomainOSType{Type: "exe"},
			Init: "/sbin/init",
		},
		Features: &libvirtxml.DomainFeatureList{
			Capabilities: &libvirtxml.DomainFeatureCapabilities{Policy: "allow"},
		},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		OnCrash:    "destroy",
		Devices:    &libvirtxml.DomainDeviceList{},
	}
}

// nativeSortedKeys returns the keys of m in increasing order.
func nativeSortedKeys[V any](m map[uint64]V) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
