package xmlconf

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestHostileInput feeds documents built to exhaust a parser; each must be
// refused quickly with a clear error.
func TestHostileInput(t *testing.T) {
	huge := edit("<name>demo</name>", "<name>demo</name><description>"+strings.Repeat("x", 5<<20)+"</description>")
	bomb := `<?xml version="1.0"?>
<!DOCTYPE domain [
  <!ENTITY a "aaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
  <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
  <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<domain type='lxc'><name>&i;</name></domain>`
	external := `<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]><domain type='lxc'><name>&x;</name></domain>`
	nested := "<domain type='lxc'>" + strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000) + "</domain>"
	tests := []struct {
		name, doc string
		kind      ErrorKind
		msg       string
	}{
		{"5 MiB document", huge, ErrXML, "XML document is too large: "},
		{"entity expansion", bomb, ErrXMLDetail, "(domain_definition):12: document type definitions with an internal subset"},
		{"external entity", external, ErrXMLDetail, "(domain_definition):1: document type definitions with an internal subset"},
		{"10000 nested elements", nested, ErrXMLDetail, "(domain_definition):1: Excessive depth in document: 256 use XML_PARSE_HUGE option"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, _, err := ParseDomain([]byte(tc.doc), conformanceOpts)
			if d := time.Since(start); d > time.Second {
				t.Errorf("refusing took %v", d)
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != tc.kind || !strings.HasPrefix(e.Msg, tc.msg) {
				t.Fatalf("error = %v, want kind %d starting %q", err, tc.kind, tc.msg)
			}
		})
	}
}

// TestDepthLimit checks the exact nesting limit: MaxDepth levels are
// accepted (as far as nesting goes), one more is refused.
func TestDepthLimit(t *testing.T) {
	doc := func(depth int) string {
		inner := depth - 2 // <domain> and <metadata>
		return edit("<name>demo</name>", "<name>demo</name><metadata><x:a xmlns:x='urn:x'>"+
			strings.Repeat("<x:a>", inner-1)+strings.Repeat("</x:a>", inner)+"</metadata>")
	}
	if _, _, err := ParseDomain([]byte(doc(MaxDepth)), conformanceOpts); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	_, _, err := ParseDomain([]byte(doc(MaxDepth+1)), conformanceOpts)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrXMLDetail || !strings.Contains(e.Msg, "Excessive depth") {
		t.Errorf("depth %d: error = %v, want the depth limit", MaxDepth+1, err)
	}
}

// TestDocumentSizeLimit checks that a document of exactly MaxDocumentSize
// bytes is read and one byte more is not.
func TestDocumentSizeLimit(t *testing.T) {
	pad := func(n int) []byte {
		doc := edit("</domain>", "<!---->\n</domain>")
		return []byte(strings.Replace(doc, "<!---->", "<!--"+strings.Repeat(" ", n-len(doc))+"-->", 1))
	}
	if _, _, err := ParseDomain(pad(MaxDocumentSize), conformanceOpts); err != nil {
		t.Errorf("%d bytes: %v", MaxDocumentSize, err)
	}
	_, _, err := ParseDomain(pad(MaxDocumentSize+1), conformanceOpts)
	wantError(t, err, ErrXML, "XML document is too large: 4194305 bytes, the limit is 4194304")
}
