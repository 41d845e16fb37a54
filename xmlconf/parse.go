package xmlconf

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// domainURL names domain documents in parser messages, as libvirt does.
const domainURL = "(domain_definition)"

// parseDomain implements ParseDomain.
func parseDomain(doc []byte, opts ParseOptions) (*Domain, []string, error) {
	root, err := readDomainTree(doc)
	if err != nil {
		return nil, nil, err
	}
	d, dropped, err := decodeChecked(root)
	if err != nil {
		return nil, nil, err
	}
	dropped.schema = capItems(dropped.schema)
	dropped.silent = capItems(dropped.silent)
	if opts.Validate && len(dropped.schema) > 0 {
		return nil, nil, schemaError(dropped.schema)
	}
	if err := finishParsed(d, opts); err != nil {
		return nil, nil, err
	}
	return d, append(dropped.schema, dropped.silent...), nil
}

// readDomainTree reads a domain document and makes the checks libvirt's
// parser makes before it builds its model, sizes rewritten in KiB.
func readDomainTree(doc []byte) (*xnode, error) {
	root, err := parseTree(doc, domainURL)
	if err != nil {
		return nil, err
	}
	if root.local != "domain" {
		return nil, errf(ErrXML, "unexpected root element <%s>, expecting <domain>", root.local)
	}
	if err := checkHeader(root); err != nil {
		return nil, err
	}
	if id, ok := root.attr("id"); ok {
		root.removeAttr(xattr{local: "id", value: id}) // the domain id is not part of a definition
	}
	if err := checkTree(root); err != nil {
		return nil, err
	}
	return root, normaliseSizes(root)
}

// finishParsed applies the parser's defaults, post-parse, define-time
// validation and the define check of the name.
func finishParsed(d *Domain, opts ParseOptions) error {
	if err := completeParsed(d, opts); err != nil {
		return err
	}
	if err := Complete(d, opts); err != nil {
		return err
	}
	if !opts.SkipValidate && !opts.Live {
		if err := validateDomain(d.Def); err != nil {
			return err
		}
	}
	if i := strings.IndexByte(d.Def.Name, '\n'); i >= 0 {
		return errf(ErrXMLDetail, "invalid char in name: 0x%02x", d.Def.Name[i])
	}
	return nil
}

// maxItems bounds the dropped items reported one by one.
const maxItems = 100

// capItems keeps the first maxItems items and sums up the rest.
func capItems(items []string) []string {
	if len(items) <= maxItems {
		return items
	}
	return append(items[:maxItems:maxItems], fmt.Sprintf("... and %d more", len(items)-maxItems))
}

// schemaError is the ErrSchema error for the dropped items.
func schemaError(items []string) error {
	return &Error{
		Kind:  ErrSchema,
		Msg:   "XML document failed to validate against schema: " + strings.Join(items, "; "),
		Items: items,
	}
}

// droppedItems are the parts of a document the model did not keep:
// schema lists what libvirt's schema does not allow, silent what libvirt
// accepts but drops (metadata without a namespace, say).
type droppedItems struct {
	schema, silent []string
}

// decodeChecked decodes root into a Domain and works out what the model
// dropped. Dropped elements are then removed from the document and it is
// decoded again, so that for repeated single elements the first counts,
// as in libvirt, rather than the last, as in encoding/xml.
func decodeChecked(root *xnode) (*Domain, droppedItems, error) {
	var dropped droppedItems
	dropped.schema = removeForeign(root, nil)
	d, err := decodeDomain(root, &dropped)
	if err != nil {
		return nil, dropped, err
	}
	out, err := parseTree([]byte(mustModelText(d)), "(model)")
	if err != nil {
		return nil, dropped, errf(ErrInternal, "reread the document model: %v", err)
	}
	if !dropped.dropLost(root, compareTrees(root, out)) {
		return d, dropped, nil
	}
	d, err = decodeDomain(root, &dropped)
	return d, dropped, err
}

// dropLost records what the model lost as schema errors and, when it lost
// anything, removes those parts from root so that a second decode keeps
// the rest; it reports whether root changed.
func (dropped *droppedItems) dropLost(root *xnode, lost []lostItem) bool {
	for _, l := range lost {
		dropped.schema = append(dropped.schema, l.msg)
	}
	if len(lost) == 0 {
		return false
	}
	for _, l := range lost {
		l.mark()
	}
	prune(root)
	dropped.silent = nil
	return true
}

// decodeDomain decodes root with libvirtxml and applies what libvirt's
// parser does beyond the model: the first <metadata> cleaned of
// unqualified and duplicate elements, the route attributes libvirtxml
// cannot hold, no foreign hypervisor namespaces, no domain id.
func decodeDomain(root *xnode, dropped *droppedItems) (*Domain, error) {
	renameCapabilities(root, modelCapName)
	text := root.xmlText()
	renameCapabilities(root, libvirtCapName)
	var def libvirtxml.Domain
	if err := xml.Unmarshal(text, &def); err != nil {
		return nil, decodeError(root, err)
	}
	d := &Domain{Def: &def, routes: collectRoutes(root)}
	def.ID = nil
	def.QEMUCommandline, def.QEMUCapabilities, def.QEMUOverride, def.QEMUDeprecation = nil, nil, nil, nil
	def.BHyveCommandline, def.VMWareDataCenterPath, def.XenCommandline = nil, nil, nil
	if meta := root.child("metadata"); meta != nil {
		xmlText, silent := canonicalMetadata(meta)
		def.Metadata = &libvirtxml.DomainMetadata{XML: xmlText}
		dropped.silent = append(dropped.silent, silent...)
	}
	if err := decodeLXCNamespace(root, &def); err != nil {
		return nil, err
	}
	return d, nil
}

// removeForeign removes elements and attributes in namespaces the LXC
// driver does not read (other hypervisors' extensions, typos in
// namespace URIs) and returns one message per removal. The metadata
// subtree and the LXC namespace element are left alone.
func removeForeign(n *xnode, ancestors []*xnode) []string {
	var msgs []string
	path := elementPath(append(ancestors, n))
	kept := n.attrs[:0]
	for _, a := range n.attrs {
		if a.prefix != "" && !a.isDecl() {
			msgs = append(msgs, fmt.Sprintf("attribute '%s' is not allowed in %s", a.qname(), path))
			continue
		}
		kept = append(kept, a)
	}
	n.attrs = kept
	children := n.children[:0]
	for _, c := range n.children {
		top := c.kind == elementNode && len(ancestors) == 0
		if top && (c.space == "" && c.local == "metadata" || c.space == LXCNamespace && c.local == "namespace") {
			children = append(children, c)
			continue
		}
		if c.kind == elementNode && c.space != "" {
			msgs = append(msgs, fmt.Sprintf("element '%s' is not allowed in %s", c.qname(), path))
			continue
		}
		if c.kind == elementNode {
			msgs = append(msgs, removeForeign(c, append(ancestors, n))...)
		}
		children = append(children, c)
	}
	n.children = children
	return msgs
}

// decodeError turns an encoding/xml decoding failure (a value that is not
// a number, say) into libvirt's report of an invalid value.
func decodeError(root *xnode, err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		if msg, ok := findValue(root, nil, ne.Num); ok {
			return errf(ErrXML, "%s", msg)
		}
		return errf(ErrXML, "Invalid value '%s' in the domain definition", ne.Num)
	}
	return errf(ErrXML, "cannot parse the domain definition: %v", err)
}

// valueMessages are libvirt's own reports of some invalid numbers.
var valueMessages = map[string]string{
	"./vcpu[1]":          "maximum vcpus count must be an integer",
	"./vcpu[1]/@current": "current vcpus count must be an integer",
}

// findValue finds where the value v occurs in the document and describes
// it as libvirt's parser reports an invalid value.
func findValue(n *xnode, ancestors []*xnode, v string) (string, bool) {
	for _, a := range n.attrs {
		if strings.TrimSpace(a.value) == v && !a.isDecl() {
			if msg, ok := valueMessages[relativeXPath(append(ancestors, n))+"/@"+a.qname()]; ok {
				return msg, true
			}
			return fmt.Sprintf("Invalid value for attribute '%s' in element '%s': '%s'", a.qname(), n.qname(), a.value), true
		}
	}
	if len(ancestors) > 0 && strings.TrimSpace(n.content()) == v && len(n.elements()) == 0 {
		if msg, ok := valueMessages[relativeXPath(append(ancestors, n))]; ok {
			return msg, true
		}
		return fmt.Sprintf("Invalid value '%s' for element or attribute '%s'", n.content(), relativeXPath(append(ancestors, n))), true
	}
	for _, c := range n.elements() {
		if msg, ok := findValue(c, append(ancestors, n), v); ok {
			return msg, true
		}
	}
	return "", false
}

// relativeXPath writes the path of the last node below the root the way
// libvirt's parser names it ("./cputune/shares[1]").
func relativeXPath(nodes []*xnode) string {
	var b strings.Builder
	b.WriteString(".")
	for _, n := range nodes[1:] {
		b.WriteString("/")
		b.WriteString(n.qname())
	}
	b.WriteString("[1]")
	return b.String()
}

// decodeLXCNamespace reads <lxc:namespace> with the rules of libvirt's
// lxcDomainDefNamespaceParse.
func decodeLXCNamespace(root *xnode, def *libvirtxml.Domain) error {
	def.LXCNamespace = nil
	ns := &libvirtxml.DomainLXCNamespace{}
	found := false
	for _, el := range root.elements() {
		if el.space != LXCNamespace || el.local != "namespace" {
			continue
		}
		for _, c := range el.elements() {
			m, err := lxcShare(c)
			if err != nil {
				return err
			}
			found = true
			switch c.local {
			case "sharenet":
				ns.ShareNet = m
			case "shareipc":
				ns.ShareIPC = m
			default:
				ns.ShareUTS = m
			}
		}
	}
	if found && (ns.ShareNet != nil || ns.ShareIPC != nil || ns.ShareUTS != nil) {
		def.LXCNamespace = ns
	}
	return nil
}

// lxcShare reads one <lxc:shareXXX> element; type 'none' gives nil.
func lxcShare(c *xnode) (*libvirtxml.DomainLXCNamespaceMap, error) {
	switch c.local {
	case "sharenet", "shareipc", "shareuts":
	default:
		return nil, errf(ErrConfigUnsupported, "unsupported Namespace feature: %s", c.local)
	}
	typ, ok := c.attr("type")
	if !ok {
		return nil, errf(ErrInternal, "No lxc environment type specified")
	}
	switch typ {
	case "none", "name", "pid", "netns":
	default:
		return nil, errf(ErrInternal, "Unknown LXC namespace source '%s'", typ)
	}
	value, ok := c.attr("value")
	if !ok {
		return nil, errf(ErrInternal, "No lxc environment type specified")
	}
	if typ == "none" {
		return nil, nil
	}
	return &libvirtxml.DomainLXCNamespaceMap{Type: typ, Value: value}, nil
}
