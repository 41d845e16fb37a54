package xmlconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// conformanceOpts are the options of libvirt's lxcxml2xmltest: an x86_64
// host whose LXC controller is /usr/libexec/libvirt_lxc.
var conformanceOpts = ParseOptions{Emulator: "/usr/libexec/libvirt_lxc", HostArch: "x86_64"}

// conformanceDir finds libvirt's LXC test data: $NSVIRT_CONFORMANCE_DIR,
// or shared/conformance/libvirt-lxc in the working directory or one of its
// parents. Without it the test is skipped, or fails when
// NSVIRT_TEST_STRICT=1.
func conformanceDir(t testing.TB) string {
	t.Helper()
	if dir, ok := findConformanceDir(); ok {
		return dir
	}
	wd, _ := os.Getwd()
	msg := "libvirt conformance data not found: set NSVIRT_CONFORMANCE_DIR or provide shared/conformance/libvirt-lxc in " + wd + " or above"
	if os.Getenv("NSVIRT_TEST_STRICT") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// findConformanceDir looks for the conformance data without failing.
func findConformanceDir() (string, bool) {
	if dir := os.Getenv("NSVIRT_CONFORMANCE_DIR"); dir != "" {
		st, err := os.Stat(dir)
		return dir, err == nil && st.IsDir()
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		candidate := filepath.Join(dir, "shared", "conformance", "libvirt-lxc")
		if st, err := os.Stat(candidate); err == nil && st.IsDir() {
			return candidate, true
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
	}
}

// conformanceCases returns the lxcxml2xml inputs of dir.
func conformanceCases(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "lxcxml2xmldata", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no lxcxml2xmldata/*.xml under %s (%v)", dir, err)
	}
	return files
}

// expectedOutput is libvirt's expected output for input file in: the file
// in lxcxml2xmloutdata when there is one, else the input itself.
func expectedOutput(t *testing.T, dir, in string) string {
	t.Helper()
	name := filepath.Base(in)
	want, err := os.ReadFile(filepath.Join(dir, "lxcxml2xmloutdata", name))
	if os.IsNotExist(err) {
		want, err = os.ReadFile(in)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(want)
}

// TestConformance runs libvirt's lxcxml2xmltest: every document of
// lxcxml2xmldata is parsed and formatted, and the output must equal the
// expected file byte for byte. There is no deliberate difference from
// libvirt in these cases, so no normalisation is applied.
func TestConformance(t *testing.T) {
	dir := conformanceDir(t)
	for _, in := range conformanceCases(t, dir) {
		t.Run(strings.TrimSuffix(filepath.Base(in), ".xml"), func(t *testing.T) {
			doc, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedOutput(t, dir, in)
			for _, validate := range []bool{false, true} {
				opts := conformanceOpts
				opts.Validate = validate
				d, warnings, err := ParseDomain(doc, opts)
				if err != nil {
					t.Fatalf("ParseDomain (validate=%v): %v", validate, err)
				}
				if len(warnings) > 0 {
					t.Errorf("ParseDomain (validate=%v) warnings: %q", validate, warnings)
				}
				for _, inactive := range []bool{true, false} {
					got, err := FormatDomain(d, FormatOptions{Inactive: inactive})
					if err != nil {
						t.Fatalf("FormatDomain: %v", err)
					}
					if got != want {
						t.Errorf("FormatDomain (inactive=%v) differs from libvirt:\n%s", inactive, lineDiff(want, got))
					}
				}
			}
		})
	}
}

// TestConformanceIdempotent checks that defining what FormatDomain wrote
// gives the same bytes again.
func TestConformanceIdempotent(t *testing.T) {
	dir := conformanceDir(t)
	files := append(conformanceCases(t, dir), filepath.Join(dir, "domain-lxc-simple.xml"))
	for _, in := range files {
		t.Run(strings.TrimSuffix(filepath.Base(in), ".xml"), func(t *testing.T) {
			doc, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			first := mustFormat(t, doc)
			if second := mustFormat(t, []byte(first)); second != first {
				t.Errorf("redefining the formatted XML changes it:\n%s", lineDiff(first, second))
			}
		})
	}
}

// TestDomainLXCSimple parses libvirt's schema test domain-lxc-simple.xml
// (no expected output exists for it) and checks what libvirt fills in.
func TestDomainLXCSimple(t *testing.T) {
	dir := conformanceDir(t)
	doc, err := os.ReadFile(filepath.Join(dir, "domain-lxc-simple.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, validate := range []bool{false, true} {
		opts := conformanceOpts
		opts.Validate = validate
		d, warnings, err := ParseDomain(doc, opts)
		if err != nil {
			t.Fatalf("ParseDomain (validate=%v): %v", validate, err)
		}
		if len(warnings) > 0 {
			t.Errorf("warnings: %q", warnings)
		}
		got, err := FormatDomain(d, FormatOptions{Inactive: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"<currentMemory unit='KiB'>500000</currentMemory>",
			"<vcpu placement='static'>1</vcpu>",
			"<partition>/virtualmachines</partition>",
			"<type arch='x86_64'>exe</type>",
			"<clock offset='utc'/>",
			"<on_crash>destroy</on_crash>",
			"<emulator>/usr/libexec/libvirt_lxc</emulator>",
			"<filesystem type='mount' accessmode='passthrough'>",
			"<target type='lxc' port='0'/>",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("output lacks %s:\n%s", want, got)
			}
		}
	}
}

// mustFormat parses doc with the conformance options and formats it as an
// inactive definition.
func mustFormat(t testing.TB, doc []byte) string {
	t.Helper()
	d, _, err := ParseDomain(doc, conformanceOpts)
	if err != nil {
		t.Fatalf("ParseDomain: %v\n%s", err, doc)
	}
	out, err := FormatDomain(d, FormatOptions{Inactive: true})
	if err != nil {
		t.Fatalf("FormatDomain: %v", err)
	}
	return out
}

// lineDiff shows the lines of got that differ from want.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
		}
	}
	return b.String()
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
