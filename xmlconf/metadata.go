package xmlconf

import (
	"encoding/xml"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// Custom metadata (<metadata>) holds one element per namespace URI. These
// functions implement virDomainSetMetadata / virDomainGetMetadata for
// VIR_DOMAIN_METADATA_ELEMENT the way libvirt does: on set, every element
// of the fragment that has no namespace is put into the URI's namespace
// under the given prefix; on get, the element comes back with that
// namespace removed again.

// SetMetadataElement replaces the metadata element in namespace uri with
// fragment, written with prefix key. An empty fragment removes it.
func SetMetadataElement(def *libvirtxml.Domain, fragment, key, uri string) error {
	var kept []*node
	if def.Metadata != nil {
		existing, err := metadataNodes(def.Metadata.XML)
		if err != nil {
			return err
		}
		for _, n := range existing {
			if elementURI(n) != uri {
				kept = append(kept, n)
			}
		}
	}
	if strings.TrimSpace(fragment) != "" {
		n, err := readTree([]byte(fragment))
		if err != nil {
			return errf(ErrXMLDetail, "(metadata_xml): %v", err)
		}
		if !isXMLName(key) {
			return errf(ErrInvalidArg, "metadata key '%s' is not a valid XML name", key)
		}
		inject(n, key)
		n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Space: "xmlns", Local: key}, Value: uri})
		kept = append(kept, n)
	}
	if len(kept) == 0 {
		def.Metadata = nil
		return nil
	}
	var b strings.Builder
	for _, n := range kept {
		writeNode(&b, n, 0)
	}
	def.Metadata = &libvirtxml.DomainMetadata{XML: b.String()}
	return nil
}

// MetadataElement returns the metadata element in namespace uri, without
// its namespace, and whether there is one.
func MetadataElement(def *libvirtxml.Domain, uri string) (string, bool, error) {
	if def.Metadata == nil {
		return "", false, nil
	}
	nodes, err := metadataNodes(def.Metadata.XML)
	if err != nil {
		return "", false, err
	}
	for _, n := range nodes {
		if elementURI(n) == uri {
			prefix := n.name.Space
			strip(n, prefix, uri)
			var b strings.Builder
			writeNode(&b, n, 0)
			// libvirt returns the element as libxml2 prints a node.
			out, err := dumpMetadata(b.String(), 0)
			if err != nil {
				return "", false, errf(ErrXML, "malformed metadata: %v", err)
			}
			return strings.TrimSuffix(out, "\n"), true, nil
		}
	}
	return "", false, nil
}

// metadataNodes parses the inner XML of <metadata> into its elements.
func metadataNodes(inner string) ([]*node, error) {
	root, err := readTree([]byte("<metadata>" + inner + "</metadata>"))
	if err != nil {
		return nil, errf(ErrXML, "malformed metadata: %v", err)
	}
	return root.children, nil
}

// elementURI returns the namespace URI an element's own declarations give
// its name.
func elementURI(n *node) string {
	for _, a := range n.attrs {
		if n.name.Space != "" && a.Name.Space == "xmlns" && a.Name.Local == n.name.Space {
			return a.Value
		}
		if n.name.Space == "" && a.Name.Space == "" && a.Name.Local == "xmlns" {
			return a.Value
		}
	}
	return ""
}

// inject puts every element without a prefix into prefix's namespace.
func inject(n *node, prefix string) {
	if n.name.Space == "" {
		n.name.Space = prefix
	}
	for _, c := range n.children {
		inject(c, prefix)
	}
}

// strip removes prefix (bound to uri) from n and its descendants, and the
// declaration of it.
func strip(n *node, prefix, uri string) {
	if n.name.Space == prefix {
		n.name.Space = ""
	}
	kept := n.attrs[:0]
	for _, a := range n.attrs {
		if a.Name.Space == "xmlns" && a.Name.Local == prefix && a.Value == uri {
			continue
		}
		kept = append(kept, a)
	}
	n.attrs = kept
	for _, c := range n.children {
		strip(c, prefix, uri)
	}
}

func isXMLName(s string) bool {
	if s == "" || strings.ContainsAny(s, ": \t\n<>&'\"/") {
		return false
	}
	c := s[0]
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
