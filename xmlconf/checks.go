package xmlconf

import (
	"slices"
	"strings"
)

// Value lists of libvirt's enumerations that the checks below use.
var (
	virtTypes = []string{"qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test", "vmware",
		"hyperv", "vbox", "phyp", "parallels", "bhyve", "vz", "armvirt", "hvf"}
	osTypes = []string{"hvm", "xen", "linux", "exe", "uml", "xenpvh"}
	// archNames are libvirt's architecture names (virArch).
	archNames = []string{"i686", "x86_64", "aarch64", "alpha", "armv6l", "armv7l", "armv7b", "cris",
		"ia64", "lm32", "loongarch64", "m68k", "microblaze", "microblazeel", "mips", "mipsel", "mips64",
		"mips64el", "openrisc", "parisc", "parisc64", "ppc", "ppcle", "ppc64", "ppc64le", "ppcemb",
		"riscv32", "riscv64", "s390", "s390x", "sh4", "sh4eb", "sparc", "sparc64", "unicore32",
		"xtensa", "xtensaeb"}
	// featureNames are the <features> children in libvirt's order.
	featureNames = []string{"acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm",
		"pvspinlock", "capabilities", "pmu", "vmport", "gic", "smm", "ioapic", "hpt", "vmcoreinfo",
		"htm", "nested-hv", "msrs", "ccf-assist", "xen", "cfpc", "sbbc", "ibs", "tcg",
		"async-teardown", "ras", "ps2", "aia"}
	// CapabilityNames are the process capabilities <features><capabilities>
	// may name, in libvirt's order.
	CapabilityNames = []string{"audit_control", "audit_write", "block_suspend", "chown",
		"dac_override", "dac_read_search", "fowner", "fsetid", "ipc_lock", "ipc_owner", "kill",
		"lease", "linux_immutable", "mac_admin", "mac_override", "mknod", "net_admin",
		"net_bind_service", "net_broadcast", "net_raw", "setgid", "setfcap", "setpcap", "setuid",
		"sys_admin", "sys_boot", "sys_chroot", "sys_module", "sys_nice", "sys_pacct", "sys_ptrace",
		"sys_rawio", "sys_resource", "sys_time", "sys_tty_config", "syslog", "wake_alarm"}
	lifecycleActions = []string{"destroy", "restart", "rename-restart", "preserve", "coredump-destroy", "coredump-restart"}
	lockFailures     = []string{"poweroff", "restart", "pause", "ignore"}
	clockOffsets     = []string{"utc", "localtime", "variable", "timezone", "absolute"}
)

// checkHeader makes the checks libvirt's parser makes first: domain type,
// OS type and architecture (virDomainDefParseCaps), then name, UUID and
// title (virDomainDefParseIDs).
func checkHeader(root *xnode) error {
	typ, ok := root.attr("type")
	if !ok || typ == "" {
		return errf(ErrInternal, "missing domain type attribute")
	}
	if !slices.Contains(virtTypes, typ) {
		return errf(ErrInternal, "invalid domain type %s", typ)
	}
	osType := firstPath(root, []string{"os", "type"})
	if osType == nil || xpathString(osType) == "" {
		if root.child("bootloader") == nil || xpathString(root.child("bootloader")) == "" {
			return errf(ErrXML, "an os <type> must be specified")
		}
	} else if t := xpathString(osType); !slices.Contains(osTypes, t) {
		return errf(ErrInternal, "Unknown OS type '%s'", t)
	}
	if osType != nil {
		if arch, _ := osType.attr("arch"); arch != "" && !slices.Contains(archNames, arch) {
			return errf(ErrInternal, "Unknown architecture %s", arch)
		}
	}
	return checkIDs(root)
}

// checkIDs checks name, UUID and title.
func checkIDs(root *xnode) error {
	name := root.child("name")
	if name == nil || xpathString(name) == "" {
		return errf(ErrNoName, "missing name information")
	}
	if u := root.child("uuid"); u != nil && xpathString(u) != "" {
		if _, ok := parseUUID(xpathString(u)); !ok {
			return errf(ErrInternal, "malformed uuid element")
		}
	}
	if t := root.child("title"); t != nil && strings.Contains(xpathString(t), "\n") {
		return errf(ErrXML, "Domain title can't contain newlines")
	}
	return nil
}

// xpathString is XPath's string(node): all descendant text.
func xpathString(n *xnode) string {
	var b strings.Builder
	var walk func(*xnode)
	walk = func(n *xnode) {
		for _, c := range n.children {
			switch c.kind {
			case textNode:
				b.WriteString(c.text)
			case elementNode:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// checkTree checks the enumerations libvirt's parser checks on the way:
// features, capabilities, lifecycle actions and the clock offset.
func checkTree(root *xnode) error {
	if err := checkFeatures(root); err != nil {
		return err
	}
	actions := []struct {
		name    string
		allowed []string
	}{{"on_poweroff", lifecycleActions}, {"on_reboot", lifecycleActions}, {"on_crash", lifecycleActions}, {"on_lockfailure", lockFailures}}
	for _, a := range actions {
		if n := root.child(a.name); n != nil {
			if v := xpathString(n); v != "" && !slices.Contains(a.allowed, v) {
				return errf(ErrInternal, "unknown %s action: %s", a.name, v)
			}
		}
	}
	if mem := root.child("memory"); mem != nil {
		if v, ok := mem.attr("dumpCore"); ok && v != "on" && v != "off" {
			return errf(ErrXML, "Invalid memory core dump attribute value '%s'", v)
		}
	}
	if clock := root.child("clock"); clock != nil {
		if v, ok := clock.attr("offset"); ok && !slices.Contains(clockOffsets, v) {
			return errf(ErrInternal, "unknown clock offset '%s'", v)
		}
	}
	return checkDevices(root)
}

// checkFeatures checks the names under <features> and the capability
// policy and states, as virDomainFeaturesDefParse does.
func checkFeatures(root *xnode) error {
	features := root.child("features")
	if features == nil {
		return nil
	}
	for _, f := range features.elements() {
		if f.space != "" || !slices.Contains(featureNames, f.local) {
			return errf(ErrInternal, "unexpected feature '%s'", f.local)
		}
		if f.local != "capabilities" {
			continue
		}
		if p, ok := f.attr("policy"); ok && !slices.Contains([]string{"default", "allow", "deny"}, p) {
			return errf(ErrXML, "unknown policy attribute '%s' of feature '%s'", p, f.local)
		}
		for _, c := range f.elements() {
			if c.space != "" || !slices.Contains(CapabilityNames, c.local) {
				return errf(ErrConfigUnsupported, "unexpected capability feature '%s'", c.local)
			}
			if s, ok := c.attr("state"); ok && s != "on" && s != "off" {
				return errf(ErrXML, "unknown state attribute '%s' of feature capability '%s'", s, c.local)
			}
		}
	}
	return nil
}

// deviceEnums lists the enumerated attributes of LXC-relevant devices.
var deviceEnums = map[string]map[string][]string{
	"filesystem": {
		"type":       {"mount", "block", "file", "template", "ram", "bind", "volume"},
		"accessmode": {"passthrough", "mapped", "squash"},
	},
	"interface": {"type": {"user", "ethernet", "vhostuser", "server", "client", "mcast", "network",
		"bridge", "internal", "direct", "hostdev", "udp", "vdpa", "null", "vds"}},
	"console": {"type": {"null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp", "tcp", "unix",
		"spicevmc", "spiceport", "nmdm", "qemu-vdagent", "dbus"}},
	"hostdev": {"mode": {"subsystem", "capabilities"}},
}

// checkDevices checks the enumerated attributes of devices.
func checkDevices(root *xnode) error {
	devices := root.child("devices")
	if devices == nil {
		return nil
	}
	for _, dev := range devices.elements() {
		for attr, allowed := range deviceEnums[dev.local] {
			if v, ok := dev.attr(attr); ok && !slices.Contains(allowed, v) {
				return invalidAttr(dev, attr, v)
			}
		}
		if dev.local == "hostdev" {
			if err := checkHostdevType(dev); err != nil {
				return err
			}
		}
		if err := checkRoutes(dev); err != nil {
			return err
		}
	}
	return nil
}

// checkRoutes checks the numbers of an interface's or host device's
// routes, host-side ones included, as virNetDevIPRouteParseXML does.
func checkRoutes(dev *xnode) error {
	routes := namedChildren(dev, "route")
	if src := dev.child("source"); src != nil && dev.local == "interface" {
		routes = append(routes, namedChildren(src, "route")...)
	}
	for _, r := range routes {
		for _, attr := range []string{"prefix", "metric"} {
			if v, ok := r.attr(attr); ok && v != "" {
				if _, ok := parseUintWrap(v); !ok {
					return errf(ErrXML, "Domain interface: Invalid %s specified in route definition", attr)
				}
			}
		}
	}
	return nil
}

// checkHostdevType checks a host device's type against its mode.
func checkHostdevType(dev *xnode) error {
	mode, _ := dev.attr("mode")
	typ, ok := dev.attr("type")
	if !ok {
		return nil
	}
	allowed := []string{"usb", "pci", "scsi", "scsi_host", "mdev"}
	if mode == "capabilities" {
		allowed = []string{"storage", "misc", "net"}
	}
	if !slices.Contains(allowed, typ) {
		return invalidAttr(dev, "type", typ)
	}
	return nil
}

// invalidAttr is libvirt's report of an attribute with a value outside
// its enumeration (virXMLPropEnum).
func invalidAttr(n *xnode, attr, value string) error {
	return errf(ErrXML, "Invalid value for attribute '%s' in element '%s': '%s'.", attr, n.local, value)
}
