package driver

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nsvirt/nsvirt/xmlconf"
)

// The unit tests of networks need no root: the networks they start use
// forward mode bridge onto the loopback link "lo", whose start only checks
// that the host link exists. The plumbing of networks with a bridge of
// their own is tested end to end (cmd/nsvirtd/network_e2e_test.go).

// netTestDriver is a driver on fresh directories that records network
// events.
type netTestDriver struct {
	*Driver
	dir  string
	cfg  Config
	log  *bytes.Buffer
	mu   sync.Mutex
	evts []NetworkLifecycleEvent
}

func newNetTestDriver(t *testing.T, mods ...func(*Config)) *netTestDriver {
	t.Helper()
	td := &netTestDriver{dir: t.TempDir()}
	td.cfg = Config{
		ConfigDir: filepath.Join(td.dir, "lxc"),
		StateDir:  filepath.Join(td.dir, "run"),
		Emulator:  "/usr/libexec/nsvirtd",
	}
	for _, m := range mods {
		m(&td.cfg)
	}
	td.open(t)
	return td
}

func (td *netTestDriver) open(t *testing.T) {
	t.Helper()
	td.log = &bytes.Buffer{}
	cfg := td.cfg
	cfg.Log = slog.New(slog.NewTextHandler(td.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	td.Driver = d
	d.Subscribe(func(ev Event) {
		if ne, ok := ev.(NetworkLifecycleEvent); ok {
			td.mu.Lock()
			td.evts = append(td.evts, ne)
			td.mu.Unlock()
		}
	})
	t.Cleanup(func() {
		td.destroyAll(t)
		d.Close()
	})
}

// destroyAll stops every network still active, so that a test that
// started one by mistake leaves nothing on the host; only networks on lo
// may be left running by the tests.
func (td *netTestDriver) destroyAll(t *testing.T) {
	refs, _ := td.ListNetworks(ListNetworksActive)
	for _, ref := range refs {
		if br, _ := td.NetworkBridgeName(ref); br != "lo" {
			t.Errorf("network %s on %s was started on the host", ref.Name, br)
		}
		td.NetworkDestroy(ref)
	}
}

func (td *netTestDriver) restart(t *testing.T) {
	t.Helper()
	td.Close()
	td.mu.Lock()
	td.evts = nil
	td.mu.Unlock()
	td.open(t)
}

// events returns the event types seen so far, as "name:type" strings.
func (td *netTestDriver) events() []string {
	td.mu.Lock()
	defer td.mu.Unlock()
	names := []string{"defined", "undefined", "started", "stopped"}
	var out []string
	for _, e := range td.evts {
		out = append(out, e.Net.Name+":"+names[e.Event])
	}
	return out
}

func (td *netTestDriver) netDir() string { return filepath.Join(td.dir, "network") }

const netUUID1 = "1b5a7a1c-2f64-4b8e-9d0b-6d7e0b3a4c11"

// natXML is a NAT network with DHCP on 10.77.OCTET.0/24.
func natXML(name, uuid, bridge, octet string) string {
	u, b := "", ""
	if uuid != "" {
		u = "<uuid>" + uuid + "</uuid>"
	}
	if bridge != "" {
		b = "<bridge name='" + bridge + "'/>"
	}
	return "<network><name>" + name + "</name>" + u + "<forward mode='nat'/>" + b +
		"<ip address='10.77." + octet + ".1' prefix='24'><dhcp><range start='10.77." + octet + ".2' end='10.77." +
		octet + ".254'/></dhcp></ip></network>"
}

// loXML is a network on the host link lo (forward mode bridge).
func loXML(name, uuid string) string {
	u := ""
	if uuid != "" {
		u = "<uuid>" + uuid + "</uuid>"
	}
	return "<network><name>" + name + "</name>" + u + "<forward mode='bridge'/><bridge name='lo'/></network>"
}

func mustDefineNet(t *testing.T, d *Driver, xml string) NetworkRef {
	t.Helper()
	ref, err := d.NetworkDefineXML(xml, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func names(refs []NetworkRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

// dirState lists the files below dir with their contents, to show that a
// refused call wrote nothing.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

func TestNetworkDefaultDefinedOnlyFirstTime(t *testing.T) {
	td := newNetTestDriver(t, func(c *Config) { c.DefaultNetworkSubnet = netip.MustParsePrefix("10.250.0.0/16") })
	refs, err := td.ListNetworks(0)
	if err != nil || !slices.Equal(names(refs), []string{"default"}) {
		t.Fatalf("ListNetworks = %v, %v", names(refs), err)
	}
	ref := refs[0]
	if active, _ := td.NetworkIsActive(ref); active {
		t.Error("default network is active")
	}
	if auto, _ := td.NetworkAutostart(ref); auto {
		t.Error("default network autostarts")
	}
	xml, err := td.NetworkXMLDesc(ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<forward mode='nat'/>", "<bridge name='virbr0' stp='on' delay='0'/>",
		"<ip address='10.250.0.1' netmask='255.255.0.0'>", "<range start='10.250.0.2' end='10.250.255.254'/>", "<mac address='52:54:00:"} {
		if !strings.Contains(xml, want) {
			t.Errorf("default network lacks %q:\n%s", want, xml)
		}
	}
	if err := td.NetworkUndefine(ref); err != nil {
		t.Fatal(err)
	}
	td.restart(t)
	if refs, _ := td.ListNetworks(0); len(refs) != 0 {
		t.Fatalf("default network defined again on the second start-up: %v", names(refs))
	}
}

func TestNetworkDefaultSubnetDefault(t *testing.T) {
	td := newNetTestDriver(t, func(c *Config) { c.NetworkDir = filepath.Join(c.ConfigDir, "..", "nets") })
	ref, err := td.NetworkLookupByName("default")
	if err != nil {
		t.Fatal(err)
	}
	xml, _ := td.NetworkXMLDesc(ref, 0)
	if !strings.Contains(xml, "<ip address='192.168.122.1' netmask='255.255.255.0'>") {
		t.Errorf("default network:\n%s", xml)
	}
	if _, err := os.Stat(filepath.Join(td.dir, "nets", "default.xml")); err != nil {
		t.Errorf("Config.NetworkDir not used: %v", err)
	}
}

func TestNetworkDefineAndFiles(t *testing.T) {
	td := newNetTestDriver(t)
	ref := mustDefineNet(t, td.Driver, natXML("web", netUUID1, "", "5"))
	if ref.Name != "web" || ref.UUID.String() != netUUID1 {
		t.Fatalf("ref %+v", ref)
	}
	path := filepath.Join(td.netDir(), "web.xml")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE.") || !strings.Contains(string(b), "virsh net-edit web\n") {
		t.Errorf("no libvirt header:\n%s", b)
	}
	want := xmlconf.NextBridgeName(append(hostLinks(), "virbr0")) // virbr0 is default's
	if br, _ := td.NetworkBridgeName(ref); br != want {
		t.Errorf("generated bridge %q, want %s", br, want)
	}
	again := mustDefineNet(t, td.Driver, natXML("web", netUUID1, "", "6"))
	if br, _ := td.NetworkBridgeName(again); br != want {
		t.Errorf("redefinition changed the bridge to %q", br)
	}
	if xml, _ := td.NetworkXMLDesc(ref, NetworkXMLInactive); !strings.Contains(xml, "10.77.6.1") {
		t.Errorf("redefinition not applied:\n%s", xml)
	}
	if got := td.events(); !slices.Equal(got, []string{"web:defined", "web:defined"}) {
		t.Errorf("events %v", got)
	}
	if err := td.NetworkSetAutostart(ref, true); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(td.netDir(), "autostart", "web.xml")
	if target, err := os.Readlink(link); err != nil || target != path {
		t.Errorf("autostart link -> %q, %v", target, err)
	}
	// Not across a restart: that would start a NAT network on the host.
	if err := td.NetworkSetAutostart(ref, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("autostart link left: %v", err)
	}
	td.restart(t)
	if auto, err := td.NetworkAutostart(ref); err != nil || auto {
		t.Errorf("autostart after restart: %v %v", auto, err)
	}
	if xml, _ := td.NetworkXMLDesc(ref, 0); !strings.Contains(xml, "<uuid>"+netUUID1+"</uuid>") || !strings.Contains(xml, "'"+want+"'") {
		t.Errorf("after restart:\n%s", xml)
	}
}

func hostLinks() []string {
	var out []string
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		out = append(out, ifc.Name)
	}
	return out
}

func TestNetworkDefineRefusals(t *testing.T) {
	td := newNetTestDriver(t)
	mustDefineNet(t, td.Driver, natXML("web", netUUID1, "nsvtbr7", "5"))
	other := "2c6b8b2d-3075-4c9f-8e1c-7e8f1c4b5d22"
	tests := []struct {
		name, xml string
		kind      Kind
		msg       string
	}{
		{"same name, other uuid", natXML("web", other, "", "9"), KindOperationFailed,
			"network 'web' already exists with uuid " + netUUID1},
		{"same uuid, other name", natXML("app", netUUID1, "", "9"), KindOperationFailed,
			"network 'web' is already defined with uuid " + netUUID1},
		{"bridge in use", natXML("app", other, "nsvtbr7", "9"), KindInternal, "bridge name 'nsvtbr7' already in use."},
		{"bridge of default", natXML("app", other, "virbr0", "9"), KindInternal, "bridge name 'virbr0' already in use."},
		{"overlapping subnet", strings.ReplaceAll(natXML("app", other, "", "5"), "prefix='24'", "prefix='16'"), KindOperationFailed,
			"subnet 10.77.0.0/16 of network 'app' overlaps subnet 10.77.5.0/24 of network 'web'"},
		{"overlapping the default", strings.ReplaceAll(natXML("app", other, "", "122"), "10.77.", "192.168."), KindOperationFailed,
			"subnet 192.168.122.0/24 of network 'app' overlaps subnet 192.168.122.0/24 of network 'default'"},
		{"malformed XML", "<network><name>app</name>", KindXMLDetail, ""},
		{"no name", "<network><forward mode='nat'/></network>", KindNoName, "missing name information"},
		{"unknown forward mode", "<network><name>app</name><forward mode='teleport'/></network>", KindConfigUnsupported,
			"unknown forwarding type 'teleport'"},
		{"dns txt", "<network><name>app</name><dns><txt name='x' value='y'/></dns><ip address='10.78.0.1' prefix='24'/></network>",
			KindConfigUnsupported, "<dns><txt> in network 'app' is not supported by this driver"},
		{"snat addresses", "<network><name>app</name><forward mode='nat'><nat><address start='1.2.3.4' end='1.2.3.5'/></nat></forward>" +
			"<ip address='10.78.0.1' prefix='24'/></network>", KindConfigUnsupported, "SNAT"},
	}
	before := dirState(t, td.dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, create := range []bool{false, true} {
				var err error
				if create {
					_, err = td.NetworkCreateXML(tt.xml, 0)
				} else {
					_, err = td.NetworkDefineXML(tt.xml, 0)
				}
				if kindOf(t, err) != tt.kind || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("create=%v: got %v (kind %d), want kind %d %q", create, err, KindOf(err), tt.kind, tt.msg)
				}
			}
		})
	}
	if after := dirState(t, td.dir); !mapsEqual(before, after) {
		t.Errorf("refused defines changed files:\nbefore %v\nafter  %v", keys(before), keys(after))
	}
	if refs, _ := td.ListNetworks(0); !slices.Equal(names(refs), []string{"default", "web"}) {
		t.Errorf("networks %v", names(refs))
	}
	if got := td.events(); !slices.Equal(got, []string{"web:defined"}) {
		t.Errorf("events %v", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestNetworkValidateFlag(t *testing.T) {
	td := newNetTestDriver(t)
	doc := "<network><name>v</name><bogus/><forward mode='bridge'/><bridge name='lo'/></network>"
	if _, err := td.NetworkDefineXML(doc, NetworkDefineValidate); kindOf(t, err) != KindXMLInvalidSchema {
		t.Fatalf("define --validate: %v", err)
	}
	if _, err := td.NetworkCreateXML(doc, NetworkCreateValidate); kindOf(t, err) != KindXMLInvalidSchema {
		t.Fatalf("create --validate: %v", err)
	}
	if _, err := td.NetworkDefineXML(doc, 2); kindOf(t, err) != KindInvalidArg {
		t.Fatalf("unknown flag: %v", err)
	}
	if _, err := td.NetworkDefineXML(doc, 0); err != nil {
		t.Fatalf("without --validate the unknown element is dropped: %v", err)
	}
}

// TestNetworkConcurrentDefines defines networks without bridge names at
// once: each gets its own bridge.
func TestNetworkConcurrentDefines(t *testing.T) {
	td := newNetTestDriver(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = td.NetworkDefineXML(natXML("n"+strconv.Itoa(i), "", "", strconv.Itoa(10+i)), 0)
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("define %d: %v", i, err)
		}
		ref, _ := td.NetworkLookupByName("n" + strconv.Itoa(i))
		br, _ := td.NetworkBridgeName(ref)
		if seen[br] {
			t.Errorf("bridge %s given twice", br)
		}
		seen[br] = true
	}
}
