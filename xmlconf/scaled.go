package xmlconf

import (
	"strconv"
)

// scaledKind says how a scaled value is read and stored.
type scaledKind int

const (
	scaledMemory scaledKind = iota // KiB, virDomainParseMemory
	scaledLimit                    // KiB, virDomainParseMemoryLimit
	scaledBytes                    // bytes, virParseScaledValue with scale 1
)

// scaledValue is one size libvirt reads with a unit.
type scaledValue struct {
	path     []string // element path below <domain>
	attr     string   // attribute holding the number; "" for the text
	unitAttr string   // attribute holding the unit
	xpath    string   // libvirt's XPath, used in messages
	kind     scaledKind
}

// scaledValues lists the sizes of a domain definition that take units.
var scaledValues = []scaledValue{
	{path: []string{"maxMemory"}, unitAttr: "unit", xpath: "./maxMemory[1]"},
	{path: []string{"memory"}, unitAttr: "unit", xpath: "./memory[1]"},
	{path: []string{"currentMemory"}, unitAttr: "unit", xpath: "./currentMemory[1]"},
	{path: []string{"memtune", "hard_limit"}, unitAttr: "unit", xpath: "./memtune/hard_limit[1]", kind: scaledLimit},
	{path: []string{"memtune", "soft_limit"}, unitAttr: "unit", xpath: "./memtune/soft_limit[1]", kind: scaledLimit},
	{path: []string{"memtune", "swap_hard_limit"}, unitAttr: "unit", xpath: "./memtune/swap_hard_limit[1]", kind: scaledLimit},
	{path: []string{"memtune", "min_guarantee"}, unitAttr: "unit", xpath: "./memtune/min_guarantee[1]"},
}

// normaliseSizes checks every size of the document rooted at root with
// libvirt's rules and rewrites it in the unit libvirt stores it in
// (KiB, or bytes for filesystem space limits).
func normaliseSizes(root *xnode) error {
	for _, sv := range scaledValues {
		if n := firstPath(root, sv.path); n != nil {
			if err := normaliseSize(n, sv); err != nil {
				return err
			}
		}
	}
	if err := normaliseNestedSizes(root); err != nil {
		return err
	}
	devices := root.child("devices")
	if devices == nil {
		return nil
	}
	for _, fs := range devices.elements() {
		if fs.space == "" && fs.local == "filesystem" {
			if err := normaliseFilesystem(fs); err != nil {
				return err
			}
		}
	}
	return nil
}

// normaliseNestedSizes handles hugepage sizes and NUMA cell sizes.
func normaliseNestedSizes(root *xnode) error {
	if hp := firstPath(root, []string{"memoryBacking", "hugepages"}); hp != nil {
		for _, page := range namedChildren(hp, "page") {
			sv := scaledValue{attr: "size", unitAttr: "unit", xpath: "./@size"}
			if err := normaliseSize(page, sv); err != nil {
				return err
			}
		}
	}
	if numa := firstPath(root, []string{"cpu", "numa"}); numa != nil {
		for _, cell := range namedChildren(numa, "cell") {
			sv := scaledValue{attr: "memory", unitAttr: "unit", xpath: "./@memory"}
			if err := normaliseSize(cell, sv); err != nil {
				return err
			}
		}
	}
	return nil
}

// normaliseSize reads the size sv describes in n and rewrites it.
func normaliseSize(n *xnode, sv scaledValue) error {
	raw, present := n.content(), true
	if sv.attr != "" {
		raw, present = n.attr(sv.attr)
	}
	if !present || raw == "" {
		if sv.attr != "" {
			return errf(ErrXML, "missing element or attribute '%s'", sv.xpath)
		}
		return nil
	}
	v, ok := parseUint(raw)
	if !ok {
		return errf(ErrXML, "Invalid value '%s' for element or attribute '%s'", raw, sv.xpath)
	}
	unit, _ := n.attr(sv.unitAttr)
	out, outUnit, err := convertSize(v, unit, sv.kind)
	if err != nil {
		return err
	}
	if sv.attr != "" {
		n.setAttr(sv.attr, strconv.FormatUint(out, 10))
	} else {
		n.setContent(strconv.FormatUint(out, 10))
	}
	n.setAttr(sv.unitAttr, outUnit)
	return nil
}

func convertSize(v uint64, unit string, kind scaledKind) (uint64, string, error) {
	switch kind {
	case scaledLimit:
		kib, err := limitKiB(v, unit)
		return kib, "KiB", err
	case scaledBytes:
		b, err := ScaleInteger(v, unit, 1, ^uint64(0))
		return b, "bytes", err
	}
	kib, err := memoryKiB(v, unit)
	return kib, "KiB", err
}

// normaliseFilesystem handles a RAM filesystem's usage and the space
// limits of any filesystem.
func normaliseFilesystem(fs *xnode) error {
	for _, name := range []string{"space_hard_limit", "space_soft_limit"} {
		if n := fs.child(name); n != nil {
			sv := scaledValue{unitAttr: "unit", xpath: "./" + name + "[1]", kind: scaledBytes}
			if err := normaliseSize(n, sv); err != nil {
				return err
			}
		}
	}
	if typ, _ := fs.attr("type"); typ != "ram" {
		return nil
	}
	src := fs.child("source")
	usage, ok := "", false
	if src != nil {
		usage, ok = src.attr("usage")
	}
	if !ok {
		return errf(ErrXML, "missing 'usage' attribute for RAM filesystem")
	}
	v, ok := parseUintWrap(usage)
	if !ok {
		return errf(ErrXML, "cannot parse usage '%s' for RAM filesystem", usage)
	}
	units, _ := src.attr("units")
	b, err := ScaleInteger(v, units, 1024, ^uint64(0))
	if err != nil {
		return err
	}
	src.setAttr("usage", strconv.FormatUint(b/1024, 10))
	src.setAttr("units", "KiB")
	return nil
}

// firstPath follows path (first matching child at each step, as libvirt's
// "./a[1]/b[1]" does) from n.
func firstPath(n *xnode, path []string) *xnode {
	for _, name := range path {
		if n = n.child(name); n == nil {
			return nil
		}
	}
	return n
}

// namedChildren returns n's element children named local (no namespace).
func namedChildren(n *xnode, local string) []*xnode {
	var out []*xnode
	for _, c := range n.children {
		if c.kind == elementNode && c.space == "" && c.local == local {
			out = append(out, c)
		}
	}
	return out
}
