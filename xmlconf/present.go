package xmlconf

import (
	"encoding/xml"
	"slices"
	"strconv"
	"strings"
)

// formatDomain implements FormatDomain: the model's tree, then libvirt's
// presentation of it.
func formatDomain(d *Domain, opts FormatOptions) (string, error) {
	if d == nil || d.Def == nil {
		return "", errf(ErrInternal, "no domain definition to format")
	}
	root, err := modelTree(d)
	if err != nil {
		return "", err
	}
	setDomainAttrs(root, opts)
	if opts.Inactive {
		stripLive(root)
	}
	presentFeatures(root)
	presentTuning(root)
	if idmap := nodePath(root, "idmap"); idmap != nil && nodePath(idmap, "uid") == nil {
		removeChildren(root, func(c *node) bool { return c == idmap }) // libvirt writes it with uids only
	}
	dropEmpty(root, emptyDropped)
	if err := presentMetadata(root, d); err != nil {
		return "", err
	}
	orderAttrs(root)
	orderChildren(root)
	var b strings.Builder
	writeNode(&b, root, 0)
	return b.String(), nil
}

// setDomainAttrs writes the root's attributes in libvirt's order: type,
// id (for a running domain) and namespace declarations.
func setDomainAttrs(root *node, opts FormatOptions) {
	removeAttrs(root, "id")
	var typ, rest []xml.Attr
	for _, a := range root.attrs {
		if a.Name.Space == "" && a.Name.Local == "type" {
			typ = append(typ, a)
		} else {
			rest = append(rest, a)
		}
	}
	if opts.ID > 0 && !opts.Inactive {
		typ = append(typ, xml.Attr{Name: xml.Name{Local: "id"}, Value: strconv.Itoa(opts.ID)})
	}
	root.attrs = append(typ, rest...)
}

// liveDevices are the devices whose live-only parts stripLive removes.
var liveDevices = []string{"console", "serial", "parallel", "channel", "interface", "filesystem",
	"disk", "hostdev", "controller", "input", "video", "graphics", "sound", "memballoon",
	"watchdog", "rng", "tpm", "panic", "shmem", "redirdev", "smartcard", "hub", "memory"}

// generatedNetPrefixes are the prefixes of interface names libvirt makes
// up (vnet, macvtap, macvlan), which an inactive definition leaves out.
var generatedNetPrefixes = []string{"vnet", "macvtap", "macvlan"}

// stripLive removes what libvirt writes only for a running domain: PTY
// paths and tty attributes of character devices, aliases libvirt
// assigned (user aliases start with "ua-"), generated interface names
// and dynamic security labels.
func stripLive(root *node) {
	if devs := nodePath(root, "devices"); devs != nil {
		for _, dev := range devs.children {
			if !slices.Contains(liveDevices, dev.name.Local) {
				continue
			}
			stripLiveDevice(dev)
		}
	}
	for _, sl := range childrenNamed(root, "seclabel") {
		if t, _ := attrValue(sl, "type"); t == "dynamic" {
			removeChildren(sl, func(c *node) bool {
				return c.name.Local == "label" || c.name.Local == "imagelabel"
			})
		}
	}
}

func stripLiveDevice(dev *node) {
	if t, _ := attrValue(dev, "type"); t == "pty" && dev.name.Local != "interface" {
		removeAttrs(dev, "tty")
		removeChildren(dev, func(c *node) bool { return c.name.Local == "source" })
	}
	removeChildren(dev, func(c *node) bool {
		if c.name.Local == "alias" {
			name, _ := attrValue(c, "name")
			return !strings.HasPrefix(name, "ua-")
		}
		if c.name.Local == "target" && dev.name.Local == "interface" {
			name, _ := attrValue(c, "dev")
			for _, p := range generatedNetPrefixes {
				if strings.HasPrefix(name, p) {
					return true
				}
			}
		}
		return false
	})
}

// presentFeatures orders <features> as libvirt does and writes
// <capabilities> only when it says something: a policy other than the
// default, or capabilities (then with the policy, default included).
func presentFeatures(root *node) {
	features := nodePath(root, "features")
	if features == nil {
		return
	}
	slices.SortStableFunc(features.children, func(a, b *node) int {
		return slices.Index(featureNames, a.name.Local) - slices.Index(featureNames, b.name.Local)
	})
	removeChildren(features, func(c *node) bool {
		if c.name.Local != "capabilities" {
			return false
		}
		policy, _ := attrValue(c, "policy")
		if len(c.children) == 0 {
			return policy == "" || policy == "default"
		}
		if policy == "" {
			c.attrs = append([]xml.Attr{{Name: xml.Name{Local: "policy"}, Value: "default"}}, c.attrs...)
		}
		return false
	})
}

// emptyDropped are elements libvirt leaves out when they hold nothing.
var emptyDropped = []string{"features", "memtune", "cputune", "blkiotune", "numatune", "resource",
	"idmap", "pm", "perf", "memoryBacking", "iothreadids", "keywrap"}

// dropEmpty removes the empty direct children of root named in names.
func dropEmpty(root *node, names []string) {
	removeChildren(root, func(c *node) bool {
		return slices.Contains(names, c.name.Local) && c.name.Space == "" &&
			len(c.children) == 0 && len(c.attrs) == 0 && strings.TrimSpace(c.text) == ""
	})
}

// presentMetadata writes the custom metadata as libxml2 does.
func presentMetadata(root *node, d *Domain) error {
	meta := nodePath(root, "metadata")
	if meta == nil || d.Def.Metadata == nil {
		return nil
	}
	raw, err := dumpMetadata(d.Def.Metadata.XML, 2)
	if err != nil {
		return errf(ErrXML, "malformed metadata: %v", err)
	}
	meta.children, meta.text, meta.raw = nil, "", raw
	return nil
}

// attrOrder gives libvirt's attribute order for elements where
// libvirtxml's differs; attributes not listed follow in their order.
var attrOrder = map[string][]string{
	"memory":    {"dumpCore", "unit"},
	"maxMemory": {"slots", "unit"},
	"clock":     {"offset", "adjustment", "basis", "timezone", "start"},
	"timer":     {"name", "present", "tickpolicy", "track", "frequency", "mode"},
	"inbound":   {"average", "peak", "floor", "burst"},
	"outbound":  {"average", "peak", "floor", "burst"},
	"route":     {"family", "address", "netmask", "prefix", "gateway", "metric"},
}

// orderAttrs puts the attributes of n and its descendants in libvirt's
// order.
func orderAttrs(n *node) {
	if order, ok := attrOrder[n.name.Local]; ok && n.name.Space == "" {
		rank := func(a xml.Attr) int {
			if i := slices.Index(order, a.Name.Local); i >= 0 && a.Name.Space == "" {
				return i
			}
			return len(order)
		}
		slices.SortStableFunc(n.attrs, func(a, b xml.Attr) int { return rank(a) - rank(b) })
	}
	for _, c := range n.children {
		orderAttrs(c)
	}
}

// presentTuning leaves out what libvirt does not write of tuning: block
// I/O devices without any setting, and CPU periods and quotas of zero.
func presentTuning(root *node) {
	if blkio := nodePath(root, "blkiotune"); blkio != nil {
		removeChildren(blkio, func(c *node) bool {
			return c.name.Local == "device" && len(c.children) <= 1
		})
	}
	if cputune := nodePath(root, "cputune"); cputune != nil {
		removeChildren(cputune, func(c *node) bool {
			zeroable := strings.HasSuffix(c.name.Local, "period") || strings.HasSuffix(c.name.Local, "quota")
			return zeroable && strings.TrimSpace(c.text) == "0"
		})
	}
}

// chardevOrder is libvirt's order of character device children.
var chardevOrder = []string{"source", "protocol", "log", "target", "alias", "address"}

// childOrder gives libvirt's child order for elements where libvirtxml's
// differs; children not listed follow in their order.
var childOrder = map[string][]string{
	"interface": {"mac", "source", "vlan", "virtualport", "bandwidth", "port", "ip", "route",
		"portForward", "script", "downscript", "backenddomain", "target", "guest", "model", "driver",
		"backend", "filterref", "tune", "teaming", "link", "mtu", "coalesce", "boot", "rom", "acpi",
		"alias", "address"},
	"console":  chardevOrder,
	"serial":   chardevOrder,
	"parallel": chardevOrder,
	"channel":  chardevOrder,
}

// orderChildren puts the children of the devices in libvirt's order.
func orderChildren(root *node) {
	devs := nodePath(root, "devices")
	if devs == nil {
		return
	}
	for _, dev := range devs.children {
		order, ok := childOrder[dev.name.Local]
		if !ok {
			continue
		}
		rank := func(c *node) int {
			if i := slices.Index(order, c.name.Local); i >= 0 {
				return i
			}
			return len(order)
		}
		slices.SortStableFunc(dev.children, func(a, b *node) int { return rank(a) - rank(b) })
	}
}
