package xmlconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDomain checks that parsing never panics and that formatting is
// stable: whatever ParseDomain accepts, FormatDomain writes, ParseDomain
// accepts again, validating and without dropping anything, and
// FormatDomain then writes the same bytes. Each input
// is tried as a whole document and, so that more inputs reach the
// formatter, as a fragment inside <devices> and at the end of <domain> of
// a valid definition.
func FuzzDomain(f *testing.F) {
	for _, doc := range []string{
		baseDomain, allFeaturesDomain, routesDomain,
		edit("<console type='pty'/>", "<console type='pty'/><console type='pty'><target port='5'/></console>"),
		edit("<memory", "<metadata><a:x xmlns:a='urn:a' k='v'>t<a:y/></a:x></metadata><memory"),
		edit("</domain>", nsDoc("<lxc:sharenet type='netns' value='red'/>")),
		"<domain type='lxc'><name>x</name><memory unit='MiB'>1</memory><os><type>exe</type><init>/i</init></os></domain>",
		"<filesystem type='ram'><source usage='1' units='G'/><target dir='/x'/></filesystem>",
		"<interface type='ethernet'><source><ip address='1.2.3.4' prefix='8'/><route address='0.0.0.0' prefix='0' gateway='1.2.3.5'/></source></interface>",
		"<hostdev mode='capabilities' type='net'><source><interface>e</interface></source><route address='1.0.0.0' netmask='255.0.0.0' gateway='1.2.3.5' metric='2'/></hostdev>",
		"<metadata><a:b xmlns:a='urn:a'> <a:c x='1'/> </a:b></metadata>",
		"<features><capabilities policy='deny'><kill state='on'/></capabilities></features>",
	} {
		f.Add([]byte(doc))
	}
	if dir, ok := findConformanceDir(); ok {
		files, _ := filepath.Glob(filepath.Join(dir, "lxcxml2xml*", "*.xml"))
		files = append(files, filepath.Join(dir, "domain-lxc-simple.xml"))
		for _, file := range files {
			if doc, err := os.ReadFile(file); err == nil {
				f.Add(doc)
			}
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkStable(t, doc)
		checkStable(t, []byte(strings.Replace(baseDomain, "<devices>", "<devices>"+string(doc), 1)))
		checkStable(t, []byte(strings.Replace(baseDomain, "</domain>", string(doc)+"</domain>", 1)))
	})
}

// checkStable checks the format, parse, format cycle of one document.
func checkStable(t *testing.T, doc []byte) {
	t.Helper()
	{
		d, _, err := ParseDomain(doc, conformanceOpts)
		if err != nil {
			return
		}
		first, err := FormatDomain(d, FormatOptions{Inactive: true})
		if err != nil {
			t.Fatalf("FormatDomain of a parsed document: %v", err)
		}
		strict := conformanceOpts
		strict.Validate = true
		d2, warnings, err := ParseDomain([]byte(first), strict)
		if err != nil || len(warnings) > 0 {
			t.Fatalf("ParseDomain (validating) of formatted output: %v %q\n%s", err, warnings, first)
		}
		second, err := FormatDomain(d2, FormatOptions{Inactive: true})
		if err != nil {
			t.Fatalf("second FormatDomain: %v", err)
		}
		if second != first {
			t.Fatalf("formatting is not stable:\n%s\nfirst:\n%s", lineDiff(first, second), first)
		}
	}
}
