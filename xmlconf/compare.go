package xmlconf

import (
	"fmt"
	"strings"
)

// lostItem is part of a document that the model did not keep.
type lostItem struct {
	msg    string
	remove func() // removes the item from the document
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
			msg:    fmt.Sprintf("text '%s' is not allowed in %s", shorten(strings.TrimSpace(in.content())), where),
			remove: func() { n.setContent("") },
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
		if isEmptyish(c) || ignoredLoss(c) {
			continue
		}
		parent, child := in, c
		lost = append(lost, lostItem{
			msg:    fmt.Sprintf("element '%s' is not allowed in %s", c.qname(), where),
			remove: func() { parent.removeChild(child) },
		})
	}
	return lost
}

// compareAttrs reports the attributes of in that out lacks.
func compareAttrs(in, out *xnode, where string) []lostItem {
	var lost []lostItem
	for _, a := range in.attrs {
		if a.isDecl() || isZero(a.value) || hasAttr(out, a) {
			continue
		}
		n, name := in, a
		lost = append(lost, lostItem{
			msg:    fmt.Sprintf("attribute '%s' is not allowed in %s", a.qname(), where),
			remove: func() { n.removeAttr(name) },
		})
	}
	return lost
}

func hasAttr(n *xnode, a xattr) bool {
	for _, b := range n.attrs {
		if b.local == a.local && b.space == a.space && !b.isDecl() {
			return true
		}
	}
	return false
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

// removeChild removes c from n's children.
func (n *xnode) removeChild(c *xnode) {
	for i, x := range n.children {
		if x == c {
			n.children = append(n.children[:i], n.children[i+1:]...)
			return
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
