package driver

import (
	"bytes"
	"errors"

	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// testDriver opens a driver on fresh directories and collects its events.
type testDriver struct {
	*Driver
	dir    string
	log    *bytes.Buffer
	mu     sync.Mutex
	events []Event
}

func newTestDriver(t *testing.T) *testDriver {
	t.Helper()
	td := &testDriver{dir: t.TempDir()}
	td.open(t)
	return td
}

func (td *testDriver) open(t *testing.T) {
	t.Helper()
	td.log = &bytes.Buffer{}
	d, err := New(Config{
		ConfigDir: filepath.Join(td.dir, "lxc"),
		StateDir:  filepath.Join(td.dir, "run"),
		Emulator:  "/usr/libexec/nsvirtd",
		Log:       slog.New(slog.NewTextHandler(td.log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	td.Driver = d
	<-d.autostarted // start every test from a settled driver
	d.Subscribe(func(ev Event) {
		td.mu.Lock()
		td.events = append(td.events, ev)
		td.mu.Unlock()
	})
	t.Cleanup(func() { d.Close() })
}

// restart closes the driver and opens a new one on the same directories.
func (td *testDriver) restart(t *testing.T) {
	t.Helper()
	td.Close()
	td.events = nil
	td.open(t)
}

func (td *testDriver) lifecycle() []LifecycleEvent {
	td.mu.Lock()
	defer td.mu.Unlock()
	var out []LifecycleEvent
	for _, ev := range td.events {
		if le, ok := ev.(LifecycleEvent); ok {
			out = append(out, le)
		}
	}
	return out
}

const uuid1 = "c7a5fdbd-edaf-9455-926a-d65c16db1809"

func domainXML(name, uuid string) string {
	u := ""
	if uuid != "" {
		u = "<uuid>" + uuid + "</uuid>"
	}
	return "<domain type='lxc'><name>" + name + "</name>" + u +
		"<memory unit='MiB'>64</memory><os><type>exe</type><init>/sbin/init</init></os>" +
		"<devices><console type='pty'/></devices></domain>"
}

func kindOf(t *testing.T, err error) Kind {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got none")
	}
	return KindOf(err)
}

func TestDefineAndRedefine(t *testing.T) {
	td := newTestDriver(t)
	ref, err := td.DefineXML(domainXML("c1", uuid1), 0)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Name != "c1" || ref.UUID.String() != uuid1 || ref.ID != -1 {
		t.Fatalf("ref = %+v", ref)
	}
	path := filepath.Join(td.dir, "lxc", "c1.xml")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("definition file mode %o, want 600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE.") || !strings.Contains(string(b), "virsh edit c1\n") {
		t.Errorf("definition file lacks libvirt's header:\n%s", b)
	}
	if _, err := td.DefineXML(domainXML("c1", uuid1), 0); err != nil {
		t.Fatal(err)
	}
	want := []LifecycleEvent{
		{Dom: ref, Event: EventDefined, Detail: DetailDefinedAdded},
		{Dom: ref, Event: EventDefined, Detail: DetailDefinedUpdated},
	}
	if got := td.lifecycle(); !equalEvents(got, want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
}

func equalEvents(a, b []LifecycleEvent) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDefineNameAndUUIDRules(t *testing.T) {
	td := newTestDriver(t)
	if _, err := td.DefineXML(domainXML("c1", uuid1), 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, xml, msg string
	}{
		{"same name, other uuid", domainXML("c1", "11111111-2222-3333-4444-555555555555"),
			"domain 'c1' already exists with uuid " + uuid1},
		{"same uuid, other name", domainXML("c2", uuid1),
			"domain 'c1' is already defined with uuid " + uuid1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := td.DefineXML(tt.xml, 0)
			if kindOf(t, err) != KindOperationFailed || err.Error() != tt.msg {
				t.Fatalf("got %v (kind %d), want operation failed %q", err, KindOf(err), tt.msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(td.dir, "lxc", "c2.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused define wrote c2.xml: %v", err)
	}
}

// TestFailedDefineWritesNothing makes the write fail and checks that no
// file and no domain are left.
func TestFailedDefineWritesNothing(t *testing.T) {
	td := newTestDriver(t)
	if err := os.MkdirAll(filepath.Join(td.dir, "lxc", "c1.xml.new"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := td.DefineXML(domainXML("c1", uuid1), 0); kindOf(t, err) != KindOperationFailed {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(td.dir, "lxc", "c1.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("c1.xml exists after a failed define: %v", err)
	}
	if _, err := td.LookupByName("c1"); kindOf(t, err) != KindNoDomain {
		t.Fatalf("domain registered after a failed define: %v", err)
	}
	if len(td.lifecycle()) != 0 {
		t.Fatalf("events after a failed define: %+v", td.lifecycle())
	}
	if _, err := td.DefineXML("<domain type='lxc'><name>c1", 0); err == nil {
		t.Fatal("malformed XML accepted")
	}
	entries, _ := os.ReadDir(filepath.Join(td.dir, "lxc"))
	if len(entries) != 1 {
		t.Fatalf("config dir holds %v", entries)
	}
}

func TestUndefine(t *testing.T) {
	td := newTestDriver(t)
	ref, err := td.DefineXML(domainXML("c1", uuid1), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := td.SetAutostart(ref, true); err != nil {
		t.Fatal(err)
	}
	if err := td.Undefine(ref, 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"lxc/c1.xml", "lxc/autostart/c1.xml"} {
		if _, err := os.Lstat(filepath.Join(td.dir, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists: %v", p, err)
		}
	}
	if _, err := td.LookupByName("c1"); kindOf(t, err) != KindNoDomain {
		t.Fatalf("lookup after undefine: %v", err)
	}
	if err := td.Undefine(ref, 0); kindOf(t, err) != KindNoDomain {
		t.Fatalf("second undefine: %v", err)
	}
	evs := td.lifecycle()
	if last := evs[len(evs)-1]; last.Event != EventUndefined || last.Detail != DetailUndefinedRemoved {
		t.Fatalf("last event %+v", last)
	}
}

func TestRestartKeepsDefinitionsAndAutostart(t *testing.T) {
	td := newTestDriver(t)
	a, _ := td.DefineXML(domainXML("a", ""), 0)
	if _, err := td.DefineXML(domainXML("b", ""), 0); err != nil {
		t.Fatal(err)
	}
	if err := td.SetAutostart(a, true); err != nil {
		t.Fatal(err)
	}
	before, _ := td.XMLDesc(a, XMLInactive)
	td.restart(t)
	refs, err := td.ListDomains(0)
	if err != nil || len(refs) != 2 {
		t.Fatalf("after restart: %v, %v", refs, err)
	}
	if on, _ := td.Autostart(a); !on {
		t.Error("autostart flag lost")
	}
	if after, _ := td.XMLDesc(a, XMLInactive); after != before {
		t.Errorf("definition changed across restart:\n%s\n---\n%s", before, after)
	}
	if auto, _ := td.ListDomains(ListAutostart); len(auto) != 1 || auto[0].Name != "a" {
		t.Errorf("autostart filter: %v", auto)
	}
}

// TestLoadSkipsUnusableFiles loads a directory holding a file written by
// libvirt 9.0, a malformed file and a file whose name does not match.
func TestLoadSkipsUnusableFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "lxc")
	os.MkdirAll(cfg, 0o700)
	libvirtFile := `<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:
  virsh edit b-sys
or other application using the libvirt API.
-->

<domain type='lxc'>
  <name>b-sys</name>
  <uuid>69c99c33-5594-4f74-8980-8d7566bd0824</uuid>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/sbin/init</init>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/lib/libvirt/libvirt_lxc</emulator>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/var/lib/anchor/rootfs-busybox'/>
      <target dir='/'/>
    </filesystem>
    <console type='pty'>
      <target type='lxc' port='0'/>
    </console>
  </devices>
</domain>
`
	os.WriteFile(filepath.Join(cfg, "b-sys.xml"), []byte(libvirtFile), 0o600)
	os.WriteFile(filepath.Join(cfg, "broken.xml"), []byte("<domain type='lxc'><name>broken"), 0o600)
	os.WriteFile(filepath.Join(cfg, "wrong.xml"), []byte(domainXML("other", "")), 0o600)
	var log bytes.Buffer
	d, err := New(Config{ConfigDir: cfg, StateDir: filepath.Join(dir, "run"), Log: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	refs, _ := d.ListDomains(0)
	if len(refs) != 1 || refs[0].Name != "b-sys" {
		t.Fatalf("loaded %v", refs)
	}
	for _, want := range []string{"broken.xml", "wrong.xml", "does not match domain name"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, log.String())
		}
	}
	x, _ := d.XMLDesc(refs[0], XMLInactive)
	if !strings.Contains(x, "<emulator>/usr/lib/libvirt/libvirt_lxc</emulator>") {
		t.Errorf("libvirt's emulator path was not kept:\n%s", x)
	}
}

func TestListFilters(t *testing.T) {
	td := newTestDriver(t)
	a, _ := td.DefineXML(domainXML("a", ""), 0)
	td.DefineXML(domainXML("b", ""), 0)
	td.SetAutostart(a, true)
	tests := []struct {
		flags uint32
		want  string
	}{
		{0, "a,b"},
		{ListInactive, "a,b"},
		{ListActive, ""},
		{ListPersistent | ListShutoff, "a,b"},
		{ListTransient, ""},
		{ListAutostart, "a"},
		{ListNoAutostart, "b"},
		{ListActive | ListInactive, "a,b"},
		{ListRunning | ListPaused, ""},
		{ListNoSnapshot | ListNoManagedSave, "a,b"},
		{ListHasSnapshot, ""},
	}
	for _, tt := range tests {
		refs, err := td.ListDomains(tt.flags)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range refs {
			names = append(names, r.Name)
		}
		if got := strings.Join(names, ","); got != tt.want {
			t.Errorf("flags %#x: got %q, want %q", tt.flags, got, tt.want)
		}
	}
	if _, err := td.ListDomains(1 << 20); kindOf(t, err) != KindInvalidArg {
		t.Errorf("unknown flag accepted: %v", err)
	}
}

func TestMetadata(t *testing.T) {
	td := newTestDriver(t)
	ref, _ := td.DefineXML(domainXML("c1", uuid1), 0)
	str := func(s string) *string { return &s }
	if err := td.SetMetadata(ref, MetadataDescription, str("hello"), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := td.Metadata(ref, MetadataDescription, "", 0); err != nil || got != "hello" {
		t.Fatalf("description = %q, %v", got, err)
	}
	if err := td.SetMetadata(ref, MetadataTitle, str("a\nb"), nil, nil, 0); kindOf(t, err) != KindInvalidArg {
		t.Fatalf("title with newline: %v", err)
	}
	uri := "http://example.org/app/"
	if err := td.SetMetadata(ref, MetadataElement, str("<foo a='1'><bar/></foo>"), str("app"), str(uri), 0); err != nil {
		t.Fatal(err)
	}
	x, _ := td.XMLDesc(ref, XMLInactive)
	// libvirt prints metadata the way libxml2 does, with double quotes.
	if !strings.Contains(x, `<app:foo xmlns:app="`+uri+`" a="1">`) {
		t.Errorf("stored metadata:\n%s", x)
	}
	got, err := td.Metadata(ref, MetadataElement, uri, 0)
	if err != nil || got != "<foo a=\"1\">\n  <bar/>\n</foo>" {
		t.Fatalf("element = %q, %v", got, err)
	}
	if err := td.SetMetadata(ref, MetadataElement, nil, nil, str(uri), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := td.Metadata(ref, MetadataElement, uri, 0); kindOf(t, err) != KindNoDomainMetadata {
		t.Fatalf("removed element: %v", err)
	}
	var changes int
	for _, ev := range td.events {
		if _, ok := ev.(MetadataChangeEvent); ok {
			changes++
		}
	}
	if changes != 3 {
		t.Errorf("%d metadata change events, want 3", changes)
	}
}

func TestSetMaxMemoryConfig(t *testing.T) {
	td := newTestDriver(t)
	ref, _ := td.DefineXML(domainXML("c1", uuid1), 0)
	if err := td.SetMemory(ref, 32768, MemMaximum); err != nil {
		t.Fatal(err)
	}
	info, _ := td.Info(ref)
	if info.MaxMemKiB != 32768 || info.MemoryKiB != 32768 {
		t.Fatalf("info %+v", info)
	}
	if err := td.SetMemory(ref, 65536, AffectConfig); kindOf(t, err) != KindInvalidArg {
		t.Fatalf("current above max: %v", err)
	}
	if err := td.SetMemory(ref, 1024, AffectLive); kindOf(t, err) != KindOperationInvalid {
		t.Fatalf("live change of an inactive domain: %v", err)
	}
	td.restart(t)
	if m, _ := td.MaxMemory(ref); m != 32768 {
		t.Fatalf("max memory after restart = %d", m)
	}
}
