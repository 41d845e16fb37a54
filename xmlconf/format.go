package xmlconf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// LXCNamespace is the URI of libvirt's LXC domain XML extension.
const LXCNamespace = "http://libvirt.org/schemas/domain/lxc/1.0"

// knownPrefixes maps namespace URIs that libvirt always writes with a
// fixed prefix to that prefix.
var knownPrefixes = map[string]string{
	LXCNamespace: "lxc",
}

// Marshal encodes v (a libvirtxml document type) in libvirt's own output
// style: two-space indentation, single-quoted attributes, empty elements
// written as <x/>, libvirt's escaping, and fixed namespace prefixes such as
// lxc:. The result ends with a newline, as virsh dumpxml prints it.
func Marshal(v any) (string, error) {
	raw, err := xml.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode XML: %w", err)
	}
	return Reformat(raw)
}

// Reformat rewrites a well-formed XML document in libvirt's output style.
// Comments and processing instructions are dropped; whitespace-only text
// between elements is replaced by libvirt's indentation.
func Reformat(doc []byte) (string, error) {
	root, err := readTree(doc)
	if err != nil {
		return "", err
	}
	prefixNamespaces(root, "", nil)
	var b strings.Builder
	writeNode(&b, root, 0)
	return b.String(), nil
}

// node is an element of a document read with RawToken, so prefixes and
// namespace declarations stay as written.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*node
	text     string
	// raw, when set, is the already formatted content of the element,
	// written as is (libxml2-formatted <metadata> children).
	raw string
}

func readTree(doc []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var stack []*node
	var root *node
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reformat XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name, attrs: append([]xml.Attr(nil), t.Attr...)}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			} else if root == nil {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, errors.New("reformat XML: unbalanced end element")
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil || len(stack) != 0 {
		return nil, errors.New("reformat XML: no complete root element")
	}
	return root, nil
}

// prefixNamespaces turns default-namespace declarations of known URIs
// (xmlns="http://libvirt.org/schemas/domain/lxc/1.0", as encoding/xml writes
// them) into libvirt's prefixed form (<lxc:namespace>), declaring the prefix
// once on the root element.
func prefixNamespaces(n *node, inherited string, root *node) {
	if root == nil {
		root = n
	}
	prefix := inherited
	kept := n.attrs[:0]
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == "xmlns" {
			if p, ok := knownPrefixes[a.Value]; ok {
				prefix = p
				declare(root, p, a.Value)
				continue
			}
			prefix = ""
		}
		kept = append(kept, a)
	}
	n.attrs = kept
	if prefix != "" && n.name.Space == "" {
		n.name.Space = prefix
	}
	for _, c := range n.children {
		prefixNamespaces(c, prefix, root)
	}
}

func declare(root *node, prefix, uri string) {
	for _, a := range root.attrs {
		if a.Name.Space == "xmlns" && a.Name.Local == prefix {
			return
		}
	}
	root.attrs = append(root.attrs, xml.Attr{Name: xml.Name{Space: "xmlns", Local: prefix}, Value: uri})
}

func writeNode(b *strings.Builder, n *node, depth int) {
	indent := strings.Repeat("  ", depth)
	b.WriteString(indent)
	b.WriteByte('<')
	writeName(b, n.name)
	for _, a := range n.attrs {
		b.WriteByte(' ')
		writeName(b, a.Name)
		b.WriteString("='")
		b.WriteString(Escape(a.Value))
		b.WriteByte('\'')
	}
	text := n.text
	if len(n.children) > 0 && strings.TrimSpace(text) == "" {
		text = ""
	}
	switch {
	case n.raw != "":
		b.WriteString(">\n")
		b.WriteString(n.raw)
		b.WriteString(indent)
		b.WriteString("</")
		writeName(b, n.name)
		b.WriteString(">\n")
	case len(n.children) == 0 && text == "":
		b.WriteString("/>\n")
	case len(n.children) == 0:
		b.WriteByte('>')
		b.WriteString(Escape(text))
		b.WriteString("</")
		writeName(b, n.name)
		b.WriteString(">\n")
	default:
		b.WriteString(">\n")
		for _, c := range n.children {
			writeNode(b, c, depth+1)
		}
		b.WriteString(indent)
		b.WriteString("</")
		writeName(b, n.name)
		b.WriteString(">\n")
	}
}

func writeName(b *strings.Builder, n xml.Name) {
	if n.Space != "" {
		b.WriteString(n.Space)
		b.WriteByte(':')
	}
	b.WriteString(n.Local)
}

// Escape escapes s as libvirt's virBufferEscapeString does: the five XML
// special characters become entities, and control characters other than
// tab, newline and carriage return are dropped. Unlike libvirt, a carriage
// return is written as a character reference: a parser turns a literal one
// into a newline, so writing it raw would not read back the same.
func Escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&apos;")
		case r == '\r':
			b.WriteString("&#13;")
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
