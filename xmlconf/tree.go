package xmlconf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits on documents, the defences against hostile input.
const (
	// MaxDocumentSize is the largest document accepted, the largest
	// string libvirt's RPC protocol carries (4 MiB).
	MaxDocumentSize = 4 << 20
	// MaxDepth is the deepest element nesting accepted, libxml2's default
	// limit (xmlParserMaxDepth).
	MaxDepth = 256
)

// nodeKind tells element, text and comment nodes apart.
type nodeKind int

const (
	elementNode nodeKind = iota
	textNode
	commentNode
)

// xnode is a node of a document read by parseTree. Elements keep their
// prefix as written and the namespace URI it resolves to; children keep
// document order, text and comments included.
type xnode struct {
	kind     nodeKind
	dropped  bool   // marked for removal by prune
	prefix   string // element prefix as written
	local    string
	space    string // resolved namespace URI
	attrs    []xattr
	children []*xnode
	text     string // text and comment content
	line     int
}

// xattr is an attribute or namespace declaration of an xnode.
type xattr struct {
	dropped       bool // marked for removal by prune
	prefix, local string
	space         string // resolved URI; "xmlns" for declarations
	value         string
}

// isDecl reports whether a is a namespace declaration.
func (a xattr) isDecl() bool {
	return a.prefix == "xmlns" || a.prefix == "" && a.local == "xmlns"
}

// qname returns the name as written.
func (n *xnode) qname() string { return qualify(n.prefix, n.local) }

func (a xattr) qname() string { return qualify(a.prefix, a.local) }

func qualify(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// attr returns the value of the unqualified attribute name.
func (n *xnode) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.prefix == "" && a.local == name {
			return a.value, true
		}
	}
	return "", false
}

// setAttr sets (or adds) the unqualified attribute name.
func (n *xnode) setAttr(name, value string) {
	for i, a := range n.attrs {
		if a.prefix == "" && a.local == name {
			n.attrs[i].value = value
			return
		}
	}
	n.attrs = append(n.attrs, xattr{local: name, value: value})
}

// elements returns the element children of n.
func (n *xnode) elements() []*xnode {
	var out []*xnode
	for _, c := range n.children {
		if c.kind == elementNode {
			out = append(out, c)
		}
	}
	return out
}

// child returns the first element child named local in no namespace.
func (n *xnode) child(local string) *xnode {
	for _, c := range n.children {
		if c.kind == elementNode && c.space == "" && c.local == local {
			return c
		}
	}
	return nil
}

// content returns the concatenated direct text of n.
func (n *xnode) content() string {
	var b strings.Builder
	for _, c := range n.children {
		if c.kind == textNode {
			b.WriteString(c.text)
		}
	}
	return b.String()
}

// setContent replaces the text of n by s.
func (n *xnode) setContent(s string) {
	kept := n.children[:0]
	for _, c := range n.children {
		if c.kind != textNode {
			kept = append(kept, c)
		}
	}
	n.children = append(kept, &xnode{kind: textNode, text: s})
}

// parseTree reads doc into a tree, refusing what libxml2 (with libvirt's
// settings) refuses and what could exhaust resources: documents over
// MaxDocumentSize, nesting over MaxDepth, internal DTD subsets (entity
// definitions). url names the document in error messages, as libvirt
// does ("(domain_definition)").
func parseTree(doc []byte, url string) (*xnode, error) {
	return (&treeParser{}).parse(doc, url)
}

// parse reads doc with p's settings.
func (p *treeParser) parse(doc []byte, url string) (*xnode, error) {
	if len(doc) > MaxDocumentSize {
		return nil, errf(ErrXML, "XML document is too large: %d bytes, the limit is %d", len(doc), MaxDocumentSize)
	}
	p.doc, p.url, p.dec = doc, url, xml.NewDecoder(bytes.NewReader(doc))
	return p.run()
}

// treeParser builds an xnode tree from a token stream.
type treeParser struct {
	// lenient accepts undeclared namespace prefixes (leaving them
	// without a URI) instead of failing.
	lenient bool
	doc     []byte
	url     string
	dec     *xml.Decoder
	stack   []*xnode
	scope   []map[string]string // namespace declarations per open element
	root    *xnode
	done    bool // root element closed
	// text collects the character data of the node being read, which
	// encoding/xml may deliver in many pieces.
	text strings.Builder
}

func (p *treeParser) run() (*xnode, error) {
	for {
		tok, err := p.dec.RawToken()
		if _, isText := tok.(xml.CharData); !isText {
			p.flushText()
		}
		if errors.Is(err, io.EOF) {
			return p.finish()
		}
		if err != nil {
			return nil, p.syntaxError(err)
		}
		if err := p.token(tok); err != nil {
			return nil, err
		}
	}
}

func (p *treeParser) finish() (*xnode, error) {
	if len(p.stack) > 0 {
		open := p.stack[len(p.stack)-1]
		return nil, p.fail(fmt.Sprintf("Premature end of data in tag %s line %d", open.qname(), open.line))
	}
	if p.root == nil {
		return nil, p.fail("Document is empty")
	}
	return p.root, nil
}

func (p *treeParser) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		return p.start(t)
	case xml.EndElement:
		return p.end(t)
	case xml.CharData:
		return p.chars(string(t))
	case xml.Comment:
		if len(p.stack) > 0 {
			p.top().children = append(p.top().children, &xnode{kind: commentNode, text: string(t)})
		}
	case xml.Directive:
		if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) && bytes.ContainsRune(t, '[') {
			return p.fail("document type definitions with an internal subset (entity declarations) are not supported")
		}
	}
	return nil
}

func (p *treeParser) top() *xnode { return p.stack[len(p.stack)-1] }

func (p *treeParser) start(t xml.StartElement) error {
	line, _ := p.dec.InputPos()
	if p.done {
		return p.fail("Extra content at the end of the document")
	}
	if len(p.stack) >= MaxDepth {
		return p.fail(fmt.Sprintf("Excessive depth in document: %d use XML_PARSE_HUGE option", MaxDepth))
	}
	n := &xnode{kind: elementNode, prefix: t.Name.Space, local: t.Name.Local, line: line}
	decls := map[string]string{}
	names := make(map[xml.Name]bool, len(t.Attr))
	for _, a := range t.Attr {
		if names[a.Name] {
			return p.fail(fmt.Sprintf("Attribute %s redefined", qualify(a.Name.Space, a.Name.Local)))
		}
		names[a.Name] = true
		xa := xattr{prefix: a.Name.Space, local: a.Name.Local, value: a.Value}
		if xa.isDecl() {
			xa.space = "xmlns"
			decls[declPrefix(xa)] = a.Value
		}
		n.attrs = append(n.attrs, xa)
	}
	p.scope = append(p.scope, decls)
	if err := p.resolve(n); err != nil {
		return err
	}
	if len(p.stack) > 0 {
		p.top().children = append(p.top().children, n)
	} else {
		p.root = n
	}
	p.stack = append(p.stack, n)
	return nil
}

// declPrefix is the prefix a namespace declaration binds ("" for xmlns=).
func declPrefix(a xattr) string {
	if a.prefix == "xmlns" {
		return a.local
	}
	return ""
}

// resolve sets the namespace URIs of n and its attributes.
func (p *treeParser) resolve(n *xnode) error {
	uri, ok := p.lookup(n.prefix)
	if !ok && n.prefix != "" && !p.lenient {
		return p.fail(fmt.Sprintf("Namespace prefix %s on %s is not defined", n.prefix, n.local))
	}
	n.space = uri
	for i, a := range n.attrs {
		if a.isDecl() || a.prefix == "" {
			continue
		}
		uri, ok := p.lookup(a.prefix)
		if !ok && !p.lenient {
			return p.fail(fmt.Sprintf("Namespace prefix %s for %s on %s is not defined", a.prefix, a.local, n.local))
		}
		n.attrs[i].space = uri
	}
	return nil
}

func (p *treeParser) lookup(prefix string) (string, bool) {
	switch prefix {
	case "xml":
		return "http://www.w3.org/XML/1998/namespace", true
	case "xmlns":
		return "xmlns", true
	}
	for i := len(p.scope) - 1; i >= 0; i-- {
		if uri, ok := p.scope[i][prefix]; ok {
			return uri, true
		}
	}
	return "", prefix == ""
}

func (p *treeParser) end(t xml.EndElement) error {
	if len(p.stack) == 0 {
		return p.fail("Extra content at the end of the document")
	}
	open := p.top()
	if open.prefix != t.Name.Space || open.local != t.Name.Local {
		return p.fail(fmt.Sprintf("Opening and ending tag mismatch: %s line %d and %s",
			open.qname(), open.line, qualify(t.Name.Space, t.Name.Local)))
	}
	p.stack = p.stack[:len(p.stack)-1]
	p.scope = p.scope[:len(p.scope)-1]
	if len(p.stack) == 0 {
		p.done = true
	}
	return nil
}

func (p *treeParser) chars(s string) error {
	if len(p.stack) == 0 {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		if p.done {
			return p.fail("Extra content at the end of the document")
		}
		return p.fail("Start tag expected, '<' not found")
	}
	p.text.WriteString(s)
	return nil
}

// flushText adds the text collected so far to the open element.
func (p *treeParser) flushText() {
	if p.text.Len() == 0 {
		return
	}
	if len(p.stack) > 0 {
		top := p.top()
		top.children = append(top.children, &xnode{kind: textNode, text: p.text.String()})
	}
	p.text.Reset()
}

// syntaxError turns an encoding/xml error into libvirt's report of a
// document that is not well-formed.
func (p *treeParser) syntaxError(err error) error {
	msg := err.Error()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		msg = se.Msg
	}
	return p.fail(msg)
}

// fail reports a well-formedness problem as libvirt's catchXMLError
// does: document name, line, problem, the offending line and a pointer.
func (p *treeParser) fail(problem string) error {
	line, col := p.dec.InputPos()
	text, col := contextWindow(sourceLine(p.doc, line), col)
	pointer := strings.Repeat("-", col-1) + "^"
	return errf(ErrXMLDetail, "%s:%d: %s\n%s\n%s", p.url, line, problem, text, pointer)
}

// contextWindow cuts a long line down to the part around column col
// (1-based) and returns it with the column inside the cut.
func contextWindow(line string, col int) (string, int) {
	const half = 80
	col = max(1, min(col, len(line)+1))
	if start := col - 1 - half; start > 0 {
		line, col = line[start:], col-start
	}
	if len(line) > 2*half {
		line = line[:2*half]
	}
	return strings.ToValidUTF8(line, "?"), col
}

// sourceLine returns line number n (1-based) of doc.
func sourceLine(doc []byte, n int) string {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(doc, '\n')
		if j < 0 {
			return ""
		}
		doc = doc[j+1:]
	}
	if j := bytes.IndexAny(doc, "\r\n"); j >= 0 {
		doc = doc[:j]
	}
	return string(doc)
}

// xmlText returns n serialized as plain XML, namespace declarations and
// prefixes as written, for encoding/xml to read back.
func (n *xnode) xmlText() []byte {
	var b bytes.Buffer
	n.writeXML(&b)
	return b.Bytes()
}

func (n *xnode) writeXML(b *bytes.Buffer) {
	switch n.kind {
	case textNode:
		xmlEscape(b, n.text, false)
		return
	case commentNode:
		return
	}
	b.WriteByte('<')
	b.WriteString(n.qname())
	for _, a := range n.attrs {
		b.WriteByte(' ')
		b.WriteString(a.qname())
		b.WriteString(`="`)
		xmlEscape(b, a.value, true)
		b.WriteByte('"')
	}
	if len(n.children) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	for _, c := range n.children {
		c.writeXML(b)
	}
	b.WriteString("</")
	b.WriteString(n.qname())
	b.WriteByte('>')
}

// xmlEscape writes s escaped so that an XML parser reads back exactly s.
func xmlEscape(b *bytes.Buffer, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		case r == '\r' || attr && (r == '\n' || r == '\t'):
			fmt.Fprintf(b, "&#x%X;", r)
		default:
			b.WriteRune(r)
		}
	}
}

// path returns the slash-separated element path of n from the root, as
// written (/domain/devices/filesystem).
func elementPath(ancestors []*xnode) string {
	var b strings.Builder
	for _, a := range ancestors {
		b.WriteByte('/')
		b.WriteString(a.qname())
	}
	return b.String()
}

// prune removes the nodes and attributes marked dropped below n.
func prune(n *xnode) {
	attrs := n.attrs[:0]
	for _, a := range n.attrs {
		if !a.dropped {
			attrs = append(attrs, a)
		}
	}
	n.attrs = attrs
	children := n.children[:0]
	for _, c := range n.children {
		if c.dropped {
			continue
		}
		if c.kind == elementNode {
			prune(c)
		}
		children = append(children, c)
	}
	n.children = children
}
