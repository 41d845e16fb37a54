package xmlconf

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"libvirt.org/go/libvirtxml"
)

// lostItem is part of a document that the model did not keep.
type lostItem struct {
	msg  string
	mark func() // marks the item for removal from the document (prune)
}

// compareTrees compares a document with the model's serialization of it
// and returns what the document has that the serialization lacks:
// elements, attributes and text, with the path where they were. Children
// are matched by name and position among same-named siblings. Values that
// are empty or zero, which the model leaves out as defaults, do not count
// as lost. <metadata> content is not compared (it is kept verbatim).
func compareTrees(in, out *xnode) []lostItem {
	return compareNode(in, out, []*xnode{in})
}

func compareNode(in, out *xnode, path []*xnode) []lostItem {
	var lost []lostItem
	where := elementPath(path)
	lost = append(lost, compareAttrs(in, out, where)...)
	if strings.TrimSpace(in.content()) != "" && strings.TrimSpace(out.content()) == "" && !isZero(in.content()) {
		n := in
		lost = append(lost, lostItem{
			msg:  fmt.Sprintf("text '%s' is not allowed in %s", shorten(strings.TrimSpace(in.content())), where),
			mark: func() { n.markText() },
		})
	}
	if len(path) == 2 && in.space == "" && in.local == "metadata" {
		return lost
	}
	outGroups := groupElements(out)
	seen := map[string]int{}
	for _, c := range in.elements() {
		key := c.space + " " + c.local
		i := seen[key]
		seen[key]++
		if i < len(outGroups[key]) {
			lost = append(lost, compareNode(c, outGroups[key][i], append(path, c))...)
			continue
		}
		if isEmptyish(c) && modelNames().elements[c.local] || ignoredLoss(c) {
			continue
		}
		child := c
		lost = append(lost, lostItem{
			msg:  fmt.Sprintf("element '%s' is not allowed in %s", c.qname(), where),
			mark: func() { child.dropped = true },
		})
	}
	return lost
}

// compareAttrs reports the attributes of in that out lacks.
func compareAttrs(in, out *xnode, where string) []lostItem {
	var lost []lostItem
	have := map[[2]string]bool{}
	for _, b := range out.attrs {
		if !b.isDecl() {
			have[[2]string{b.space, b.local}] = true
		}
	}
	for i, a := range in.attrs {
		if a.isDecl() || isZero(a.value) && modelNames().attrs[a.local] || have[[2]string{a.space, a.local}] {
			continue
		}
		attr := &in.attrs[i]
		lost = append(lost, lostItem{
			msg:  fmt.Sprintf("attribute '%s' is not allowed in %s", a.qname(), where),
			mark: func() { attr.dropped = true },
		})
	}
	return lost
}

// groupElements groups the element children of n by namespace and name.
func groupElements(n *xnode) map[string][]*xnode {
	g := map[string][]*xnode{}
	for _, c := range n.elements() {
		key := c.space + " " + c.local
		g[key] = append(g[key], c)
	}
	return g
}

// knownNames are the element and attribute names that occur anywhere in
// libvirtxml's domain model.
type knownNames struct {
	elements, attrs map[string]bool
}

// modelNames collects the names of libvirtxml's domain model once. An
// empty element or zero attribute the model leaves out counts as lost only
// when its name is unknown to the model (a typo, say): known ones are
// defaults the model does not write.
var modelNames = sync.OnceValue(func() knownNames { return namesOf(reflect.TypeOf(libvirtxml.Domain{})) })

// namesOf collects the XML element and attribute names of the libvirtxml
// model rooted at t, following its fields' struct tags.
func namesOf(t reflect.Type) knownNames {
	k := knownNames{elements: map[string]bool{}, attrs: map[string]bool{}}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("xml"), ",")
			if j := strings.LastIndexByte(name, ' '); j >= 0 {
				name = name[j+1:]
			}
			switch {
			case strings.Contains(opts, "attr"):
				k.attrs[name] = true
			case name != "" && name != "-":
				k.elements[name] = true
			}
			walk(f.Type)
		}
	}
	walk(t)
	return k
}

// isZero reports whether s is a value the model treats as absent: empty,
// white space or a number equal to zero.
func isZero(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return true
	}
	s = strings.TrimLeft(s, "+-")
	return s != "" && strings.Trim(s, "0") == ""
}

// isEmptyish reports whether element n carries no information: no
// non-zero attribute, no text, no such children.
func isEmptyish(n *xnode) bool {
	for _, a := range n.attrs {
		if !a.isDecl() && !isZero(a.value) {
			return false
		}
	}
	if !isZero(n.content()) {
		return false
	}
	for _, c := range n.elements() {
		if !isEmptyish(c) {
			return false
		}
	}
	return true
}

// ignoredLoss reports elements that the model drops on purpose, as
// libvirt does: LXC namespace entries of type 'none'.
func ignoredLoss(n *xnode) bool {
	if n.space != LXCNamespace {
		return false
	}
	if t, _ := n.attr("type"); t == "none" {
		return true
	}
	for _, c := range n.elements() {
		if !ignoredLoss(c) {
			return false
		}
	}
	return n.local == "namespace"
}

func shorten(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "..."
	}
	return s
}

// markText marks the text of n for removal.
func (n *xnode) markText() {
	for _, c := range n.children {
		if c.kind == textNode {
			c.dropped = true
		}
	}
}

// removeAttr removes attribute a from n.
func (n *xnode) removeAttr(a xattr) {
	for i, x := range n.attrs {
		if x == a {
			n.attrs = append(n.attrs[:i], n.attrs[i+1:]...)
			return
		}
	}
}
