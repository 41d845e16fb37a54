package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const c1XML = `<domain type='lxc'>
  <name>c1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    <init>/sbin/init</init>
  </os>
  <features>
    <privnet/>
  </features>
  <devices>
    <filesystem type='mount'>
      <source dir='/srv/c1'/>
      <target dir='/'/>
    </filesystem>
    <console type='pty'/>
  </devices>
</domain>
`

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantContains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestVirshDefinitions walks a definition through every virsh command
// that reads or changes it, restarting the daemon in between.
func TestVirshDefinitions(t *testing.T) {
	requireTool(t, "virsh", "libvirt-clients")
	d := startDaemon(t)
	file := writeFile(t, d.dir, "c1.xml", c1XML)
	wantContains(t, d.virsh("define", file), "Domain 'c1' defined from")
	if !regexp.MustCompile(`-\s+c1\s+shut off`).MatchString(d.virsh("list", "--all")) {
		t.Fatalf("list --all:\n%s", d.virsh("list", "--all"))
	}
	uuid := strings.TrimSpace(d.virsh("domuuid", "c1"))
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(uuid) {
		t.Fatalf("domuuid %q", uuid)
	}
	wantContains(t, d.virsh("dominfo", "c1"), "Name:           c1", "UUID:           "+uuid,
		"OS Type:        exe", "State:          shut off", "Max memory:     65536 KiB",
		"Persistent:     yes", "Autostart:      disable", "Security model: none")
	wantContains(t, d.virsh("domstate", "--reason", "c1"), "shut off (unknown)")
	wantContains(t, d.virsh("domid", "c1"), "-")
	wantContains(t, d.virsh("domname", uuid), "c1")

	xml := d.virsh("dumpxml", "c1")
	if inactive := d.virsh("dumpxml", "--inactive", "c1"); inactive != xml {
		t.Errorf("dumpxml and dumpxml --inactive differ for an inactive domain")
	}
	wantContains(t, xml, "<domain type='lxc'>", "<uuid>"+uuid+"</uuid>", "<memory unit='KiB'>65536</memory>",
		"<type arch='", "<target type='lxc' port='0'/>", "accessmode='passthrough'")
	redefined := writeFile(t, d.dir, "c1-again.xml", xml)
	d.virsh("define", redefined)
	if again := d.virsh("dumpxml", "--inactive", "c1"); again != xml {
		t.Errorf("redefining dumpxml's output changed it:\n%s\n---\n%s", xml, again)
	}

	wantContains(t, d.virsh("autostart", "c1"), "marked as autostarted")
	if _, err := os.Lstat(filepath.Join(d.configDir, "autostart", "c1.xml")); err != nil {
		t.Errorf("autostart link: %v", err)
	}
	wantContains(t, d.virsh("desc", "c1", "a test container"), "updated successfully")
	wantContains(t, d.virsh("desc", "--title", "c1", "Test title"), "updated successfully")
	d.virsh("metadata", "c1", "http://example.org/nsvirt/", "--key", "ex", "--set", "<app version='2'><owner>qa</owner></app>")
	d.virsh("setmaxmem", "c1", "48M", "--config")

	d.stop()
	d.start()
	wantContains(t, d.virsh("dominfo", "c1"), "Autostart:      enable", "Max memory:     49152 KiB")
	wantContains(t, d.virsh("desc", "c1"), "a test container")
	wantContains(t, d.virsh("list", "--all", "--title"), "Test title")
	wantContains(t, d.virsh("metadata", "c1", "http://example.org/nsvirt/"), `<app version="2">`, "<owner>qa</owner>")

	wantContains(t, d.virsh("autostart", "--disable", "c1"), "unmarked as autostarted")
	d.stop()
	d.start()
	wantContains(t, d.virsh("dominfo", "c1"), "Autostart:      disable")
	wantContains(t, d.virsh("undefine", "c1"), "Domain 'c1' has been undefined")
	if out := d.virsh("list", "--all", "--name"); strings.TrimSpace(out) != "" {
		t.Errorf("list after undefine: %q", out)
	}
	if entries, _ := os.ReadDir(d.configDir); len(entries) > 1 {
		t.Errorf("config dir after undefine: %v", entries)
	}
}

// TestPythonDefinitionsAndEvents defines and undefines a domain with
// python3-libvirt while an event callback watches.
func TestPythonDefinitionsAndEvents(t *testing.T) {
	d := startDaemon(t)
	out := d.python(`
import os, threading, time, libvirt
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
c = libvirt.open(os.environ["URI"])
seen = []
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                         lambda conn, dom, ev, detail, opaque: seen.append((dom.name(), ev, detail)), None)
dom = c.defineXML(os.environ["XML"])
assert dom.name() == "c1"
assert c.lookupByName("c1").UUIDString() == dom.UUIDString()
x = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
assert "<name>c1</name>" in x, x
assert dom.isPersistent() == 1 and dom.isActive() == 0
dom.undefine()
try:
    c.lookupByName("c1")
    raise SystemExit("c1 still exists")
except libvirt.libvirtError as e:
    assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, e
for _ in range(100):
    if len(seen) >= 2:
        break
    time.sleep(0.05)
print(seen)
assert seen == [("c1", libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED),
                ("c1", libvirt.VIR_DOMAIN_EVENT_UNDEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)], seen
ro = libvirt.open(os.environ["RO_URI"])
try:
    ro.defineXML(os.environ["XML"])
    raise SystemExit("read-only connection defined a domain")
except libvirt.libvirtError as e:
    assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, e
print("ok")
`, "XML="+c1XML)
	if !strings.Contains(out, "ok") {
		t.Fatalf("python: %s", out)
	}
	if entries, _ := os.ReadDir(d.configDir); len(entries) != 0 {
		t.Errorf("config dir not empty: %v", entries)
	}
}

// badInputCase is one hostile or broken document and what libvirt's error
// for it looks like.
type badInputCase struct {
	Name string `json:"name"`
	XML  string `json:"xml"`
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

func badInputs() []badInputCase {
	ok := func(body string) string {
		return "<domain type='lxc'><name>bad</name>" + body +
			"<os><type>exe</type><init>/sbin/init</init></os><devices><console type='pty'/></devices></domain>"
	}
	mem := "<memory unit='MiB'>64</memory>"
	bomb := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
		`<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
		`<domain type='lxc'><name>&lol3;</name></domain>`
	return []badInputCase{
		{Name: "not well-formed", XML: "<domain type='lxc'><name>bad</domain>", Code: 35},
		{Name: "wrong root element", XML: "<network><name>bad</name></network>", Code: 27, Msg: "unexpected root element <network>"},
		{Name: "type kvm", XML: strings.Replace(ok(mem), "type='lxc'", "type='kvm'", 1), Code: 8,
			Msg: "could not find capabilities for ostype=exe arch=x86_64 domaintype=kvm"},
		{Name: "missing name", XML: strings.Replace(ok(mem), "<name>bad</name>", "", 1), Code: 21, Msg: "missing name information"},
		{Name: "name with slash", XML: strings.Replace(ok(mem), "<name>bad</name>", "<name>a/b</name>", 1), Code: 27, Msg: "cannot contain '/'"},
		{Name: "malformed uuid", XML: ok(mem + "<uuid>not-a-uuid</uuid>"), Code: 1, Msg: "malformed uuid element"},
		{Name: "negative memory", XML: ok("<memory>-1</memory>"), Code: 27, Msg: "Invalid value '-1' for element or attribute './memory[1]'"},
		{Name: "non-numeric memory", XML: ok("<memory>lots</memory>"), Code: 27, Msg: "Invalid value 'lots'"},
		{Name: "unknown unit", XML: ok("<memory unit='XB'>1</memory>"), Code: 8, Msg: "XB"},
		// libvirt's client refuses to send a string over 4 MiB (code 39);
		// rpc's TestOversizedString sends one to the daemon directly.
		{Name: "5 MiB document", XML: ok(mem + "<description>" + strings.Repeat("x", 5<<20) + "</description>"), Code: 39},
		{Name: "entity expansion bomb", XML: bomb, Code: 35, Msg: "entity declarations"},
		{Name: "10000 nested elements", XML: ok(mem + "<metadata>" + strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000) + "</metadata>"),
			Code: 35, Msg: "Excessive depth in document"},
	}
}

// TestDefineBadInput sends each broken document through python3-libvirt
// and checks libvirt's error code and message, that the daemon lives on and
// that nothing reached the config directory.
func TestDefineBadInput(t *testing.T) {
	d := startDaemon(t)
	cases := badInputs()
	input, _ := json.Marshal(cases)
	path := writeFile(t, d.dir, "cases.json", string(input))
	out := d.python(`
import os, json, libvirt
libvirt.registerErrorHandler(lambda ctx, err: None, None)
c = libvirt.open(os.environ["URI"])
res = []
for case in json.load(open(os.environ["CASES"])):
    try:
        c.defineXML(case["xml"])
        res.append({"name": case["name"], "code": 0, "msg": "accepted"})
    except libvirt.libvirtError as e:
        res.append({"name": case["name"], "code": e.get_error_code(), "msg": str(e)})
print(json.dumps(res))
`, "CASES="+path)
	var got []badInputCase
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("python output: %v\n%s", err, out)
	}
	for i, want := range cases {
		t.Run(want.Name, func(t *testing.T) {
			g := got[i]
			t.Logf("error %d: %s", g.Code, g.Msg)
			if g.Code == 0 {
				t.Fatal("accepted")
			}
			if want.Code != 0 && g.Code != want.Code {
				t.Errorf("code %d, want %d", g.Code, want.Code)
			}
			if !strings.Contains(g.Msg, want.Msg) {
				t.Errorf("message %q lacks %q", g.Msg, want.Msg)
			}
		})
	}
	d.virsh("uri")
	if entries, _ := os.ReadDir(d.configDir); len(entries) != 0 {
		t.Errorf("config dir not empty after bad input: %v", entries)
	}
}
