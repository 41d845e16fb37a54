package xmlconf

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Custom metadata is kept and written the way libvirt does it with
// libxml2: libvirt copies the <metadata> subtree as a DOM, removes the
// children without a namespace and all but the first child of each
// namespace (virXMLNodeSanitizeNamespaces), and writes it with
// xmlNodeDump, so it keeps its own style: double quotes, namespace
// declarations before attributes, text left as it is.
//
// Domain.Def.Metadata.XML holds the children, each carrying the
// declarations of the namespaces it uses, written compactly.

// canonicalMetadata returns the children of the <metadata> element meta in
// the stored form, and a message for each child libvirt drops.
func canonicalMetadata(meta *xnode) (string, []string) {
	var msgs []string
	seen := map[string]bool{}
	var b bytes.Buffer
	for _, c := range meta.children {
		if c.kind != elementNode {
			continue
		}
		switch {
		case c.space == "":
			msgs = append(msgs, fmt.Sprintf("element '%s' in /domain/metadata has no namespace; libvirt drops it", c.qname()))
			continue
		case seen[c.space]:
			msgs = append(msgs, fmt.Sprintf("element '%s' in /domain/metadata repeats namespace '%s'; libvirt keeps only the first", c.qname(), c.space))
			continue
		}
		seen[c.space] = true
		declareUsed(c)
		stripBlanks(c)
		dumpNode(&b, c, 0, false)
	}
	return b.String(), msgs
}

// declareUsed adds to n the declarations of the namespaces n's subtree
// uses but declares outside it.
func declareUsed(n *xnode) {
	needed := map[string]string{}
	var order []string
	var walk func(*xnode, map[string]bool)
	walk = func(e *xnode, declared map[string]bool) {
		inner := map[string]bool{}
		for p := range declared {
			inner[p] = true
		}
		for _, a := range e.attrs {
			if a.isDecl() {
				inner[declPrefix(a)] = true
			}
		}
		use := func(prefix, space string) {
			if (prefix != "" || space != "") && prefix != "xml" && !inner[prefix] && needed[prefix] == "" {
				needed[prefix] = space
				order = append(order, prefix)
			}
		}
		use(e.prefix, e.space)
		for _, a := range e.attrs {
			if !a.isDecl() && a.prefix != "" {
				use(a.prefix, a.space)
			}
		}
		for _, c := range e.children {
			if c.kind == elementNode {
				walk(c, inner)
			}
		}
	}
	walk(n, map[string]bool{})
	for _, p := range order {
		decl := xattr{prefix: "xmlns", local: p, space: "xmlns", value: needed[p]}
		if p == "" {
			decl = xattr{local: "xmlns", space: "xmlns", value: needed[p]}
		}
		n.attrs = append(n.attrs, decl)
	}
}

// stripBlanks removes the white-space text nodes libxml2 drops when
// libvirt parses (xmlKeepBlanksDefault(0)): blanks are kept only as the
// whole content of an element or next to other text.
func stripBlanks(n *xnode) {
	var kept []*xnode
	for i, c := range n.children {
		if c.kind == textNode && strings.TrimLeft(c.text, " \t\n\r") == "" {
			last := i == len(n.children)-1
			keep := len(kept) == 0 && last ||
				len(kept) > 0 && (kept[len(kept)-1].kind == textNode || kept[0].kind == textNode)
			if !keep {
				continue
			}
		}
		if c.kind == elementNode {
			stripBlanks(c)
		}
		kept = append(kept, c)
	}
	n.children = kept
}

// dumpMetadata formats stored metadata children as libvirt prints them
// inside <metadata> at nesting level level.
func dumpMetadata(inner string, level int) (string, error) {
	p := &treeParser{lenient: true}
	root, err := p.parse([]byte("<metadata>"+inner+"</metadata>"), "(metadata)")
	if err != nil {
		return "", err
	}
	stripBlanks(root)
	var b bytes.Buffer
	for _, c := range root.children {
		if c.kind == textNode {
			continue
		}
		b.WriteString(strings.Repeat("  ", min(level, 30)))
		dumpNode(&b, c, level, true)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// dumpNode writes n as libxml2's xmlNodeDumpOutput does with
// xmlIndentTreeOutput set: with format, an element whose children are all
// elements or comments gets one child per line, indented two spaces per
// level; an element with text inside is written as it is.
func dumpNode(b *bytes.Buffer, n *xnode, level int, format bool) {
	switch n.kind {
	case textNode:
		dumpEscape(b, n.text, false)
		return
	case commentNode:
		b.WriteString("<!--" + n.text + "-->")
		return
	}
	b.WriteString("<" + n.qname())
	for _, a := range n.attrs {
		if a.isDecl() {
			b.WriteString(" " + a.qname() + "=" + quoteHref(a.value))
		}
	}
	for _, a := range n.attrs {
		if !a.isDecl() {
			b.WriteString(" " + a.qname() + `="`)
			dumpEscape(b, a.value, true)
			b.WriteByte('"')
		}
	}
	if len(n.children) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	inner := format
	for _, c := range n.children {
		if c.kind == textNode {
			inner = false
		}
	}
	if inner {
		b.WriteByte('\n')
	}
	for _, c := range n.children {
		if inner && c.kind != textNode {
			b.WriteString(strings.Repeat("  ", min(level+1, 30)))
		}
		dumpNode(b, c, level+1, inner)
		if inner {
			b.WriteByte('\n')
		}
	}
	if inner {
		b.WriteString(strings.Repeat("  ", min(level, 30)))
	}
	b.WriteString("</" + n.qname() + ">")
}

// quoteHref quotes a namespace URI as xmlBufWriteQuotedString does.
func quoteHref(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `"` + strings.ReplaceAll(s, `"`, "&quot;") + `"`
}

// dumpEscape escapes text or an attribute value as libxml2 2.9 does for
// a node without a document: in text <, >, & and carriage returns; in
// attributes also quotes, newlines and tabs, and non-ASCII characters as
// hexadecimal character references.
func dumpEscape(b *bytes.Buffer, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '\r':
			b.WriteString("&#13;")
		case attr && r == '"':
			b.WriteString("&quot;")
		case attr && r == '\n':
			b.WriteString("&#10;")
		case attr && r == '\t':
			b.WriteString("&#9;")
		case attr && r >= utf8.RuneSelf:
			fmt.Fprintf(b, "&#x%X;", r)
		default:
			b.WriteRune(r)
		}
	}
}
