package xmlconf

import (
	"strings"
	"testing"
)

// TestMetadataFormat checks that custom metadata comes out as libvirt
// writes it with libxml2: each namespace's first element, declarations on
// the element, double quotes, libxml2's indentation and escaping.
func TestMetadataFormat(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"nova", `<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="25.0.0"/>
      <nova:name>vm1</nova:name>
      <nova:owner>
        <nova:user uuid="u1">admin</nova:user>
      </nova:owner>
    </nova:instance>`,
			`  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="25.0.0"/>
      <nova:name>vm1</nova:name>
      <nova:owner>
        <nova:user uuid="u1">admin</nova:user>
      </nova:owner>
    </nova:instance>
  </metadata>
`},
		{"single quotes in", `<a:x xmlns:a='urn:a' k='v'/>`, "  <metadata>\n    <a:x xmlns:a=\"urn:a\" k=\"v\"/>\n  </metadata>\n"},
		{"attribute escaping", `<a:x xmlns:a="urn:a" k='&lt;&amp;"&#10;&#9;é'/>`,
			"  <metadata>\n    <a:x xmlns:a=\"urn:a\" k=\"&lt;&amp;&quot;&#10;&#9;&#xE9;\"/>\n  </metadata>\n"},
		{"text escaping", `<a:x xmlns:a="urn:a">a &lt; b &gt; c &amp; 'd' "é"</a:x>`,
			"  <metadata>\n    <a:x xmlns:a=\"urn:a\">a &lt; b &gt; c &amp; 'd' \"é\"</a:x>\n  </metadata>\n"},
		{"mixed content kept as is", `<a:p xmlns:a="urn:a">some <a:b>bold</a:b> text</a:p>`,
			"  <metadata>\n    <a:p xmlns:a=\"urn:a\">some <a:b>bold</a:b> text</a:p>\n  </metadata>\n"},
		{"blank content kept", `<a:p xmlns:a="urn:a">   </a:p>`, "  <metadata>\n    <a:p xmlns:a=\"urn:a\">   </a:p>\n  </metadata>\n"},
		{"default namespace", `<p xmlns="urn:p"><q/></p>`, "  <metadata>\n    <p xmlns=\"urn:p\">\n      <q/>\n    </p>\n  </metadata>\n"},
		{"comment", `<a:p xmlns:a="urn:a"><!-- note --><a:q/></a:p>`,
			"  <metadata>\n    <a:p xmlns:a=\"urn:a\">\n      <!-- note -->\n      <a:q/>\n    </a:p>\n  </metadata>\n"},
		{"declaration from the root", `<r:x/>`, "  <metadata>\n    <r:x xmlns:r=\"urn:root\"/>\n  </metadata>\n"},
		{"empty", ``, "  <metadata/>\n"},
		{"only dropped", `<plain/>`, "  <metadata/>\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := edit("<domain type='lxc'>", "<domain type='lxc' xmlns:r='urn:root'>")
			doc = strings.Replace(doc, "<memory", "<metadata>"+tc.in+"</metadata><memory", 1)
			out := mustFormat(t, []byte(doc))
			if !strings.Contains(out, tc.want) {
				t.Errorf("metadata written as\n%s\nwant\n%s", between(out, "<metadata", "<memory"), tc.want)
			}
			if again := mustFormat(t, []byte(out)); again != out {
				t.Errorf("not idempotent:\n%s", lineDiff(out, again))
			}
		})
	}
}

// TestMetadataElementCompatible checks that metadata set with
// SetMetadataElement is written as libvirt writes it and found again.
func TestMetadataElementCompatible(t *testing.T) {
	d, _, err := ParseDomain([]byte(baseDomain), conformanceOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetMetadataElement(d.Def, "<foo><bar a='1'>x</bar></foo>", "app", "http://example.org/app"); err != nil {
		t.Fatal(err)
	}
	out, err := FormatDomain(d, FormatOptions{Inactive: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "  <metadata>\n    <app:foo xmlns:app=\"http://example.org/app\">\n      <app:bar a=\"1\">x</app:bar>\n    </app:foo>\n  </metadata>\n"
	if !strings.Contains(out, want) {
		t.Errorf("metadata written as\n%s\nwant\n%s", out, want)
	}
	d2, _, err := ParseDomain([]byte(out), conformanceOpts)
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := MetadataElement(d2.Def, "http://example.org/app"); err != nil || !found {
		t.Errorf("MetadataElement after redefine: found %v, %v", found, err)
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return s
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}
