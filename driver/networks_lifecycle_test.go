package driver

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNetworkStartDestroyUndefine(t *testing.T) {
	td := newNetTestDriver(t)
	ref := mustDefineNet(t, td.Driver, loXML("lan", netUUID1))
	if err := td.NetworkDestroy(ref); kindOf(t, err) != KindOperationInvalid || err.Error() != "network 'lan' is not active" {
		t.Fatalf("destroy of an inactive network: %v", err)
	}
	if _, err := td.networkBridge("lan"); kindOf(t, err) != KindOperationInvalid || err.Error() != "network 'lan' is not active" {
		t.Fatalf("networkBridge of an inactive network: %v", err)
	}
	if err := td.NetworkCreate(ref); err != nil {
		t.Fatal(err)
	}
	if err := td.NetworkCreate(ref); kindOf(t, err) != KindOperationInvalid || err.Error() != "network is already active" {
		t.Fatalf("second start: %v", err)
	}
	if br, err := td.networkBridge("lan"); err != nil || br != "lo" {
		t.Fatalf("networkBridge = %q, %v", br, err)
	}
	status := filepath.Join(td.dir, "run", "network", "lan.xml")
	if b, err := os.ReadFile(status); err != nil || !strings.Contains(string(b), "<networkstatus>") {
		t.Fatalf("status file: %v\n%s", err, b)
	}
	td.networkConnections("lan", 2)
	xml, _ := td.NetworkXMLDesc(ref, 0)
	if !strings.HasPrefix(xml, "<network connections='2'>") {
		t.Errorf("live XML lacks the connections:\n%s", xml)
	}
	if xml, _ := td.NetworkXMLDesc(ref, NetworkXMLInactive); strings.Contains(xml, "connections") {
		t.Errorf("inactive XML has the connections:\n%s", xml)
	}

	if err := td.NetworkUndefine(ref); err != nil {
		t.Fatal(err)
	}
	if p, _ := td.NetworkIsPersistent(ref); p {
		t.Error("undefined active network is still persistent")
	}
	if a, _ := td.NetworkIsActive(ref); !a {
		t.Error("undefine stopped the network")
	}
	if _, err := os.Stat(filepath.Join(td.netDir(), "lan.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("definition file left: %v", err)
	}
	if err := td.NetworkUndefine(ref); kindOf(t, err) != KindOperationInvalid || err.Error() != "can't undefine transient network" {
		t.Fatalf("undefine of a transient network: %v", err)
	}
	if err := td.NetworkSetAutostart(ref, true); kindOf(t, err) != KindOperationInvalid {
		t.Fatalf("autostart of a transient network: %v", err)
	}
	if err := td.NetworkDestroy(ref); err != nil {
		t.Fatal(err)
	}
	if _, err := td.NetworkLookupByName("lan"); kindOf(t, err) != KindNoNetwork || err.Error() != "no network with matching name 'lan'" {
		t.Fatalf("destroyed transient network still there: %v", err)
	}
	if _, err := td.NetworkXMLDesc(ref, 0); kindOf(t, err) != KindNoNetwork ||
		err.Error() != "no network with matching uuid '"+netUUID1+"' (lan)" {
		t.Fatalf("query of a vanished network: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(status)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory of networks left: %v", err)
	}
	want := []string{"lan:defined", "lan:started", "lan:undefined", "lan:stopped"}
	if got := td.events(); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestNetworkCreateXML(t *testing.T) {
	td := newNetTestDriver(t)
	ref, err := td.NetworkCreateXML(loXML("tmp", ""), 0)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := td.NetworkIsPersistent(ref); p {
		t.Error("created network is persistent")
	}
	if _, err := td.NetworkCreateXML(loXML("tmp", ref.UUID.String()), 0); kindOf(t, err) != KindOperationInvalid ||
		err.Error() != "network is already active as 'tmp'" {
		t.Fatalf("create of an active network: %v", err)
	}
	if _, err := os.Stat(filepath.Join(td.netDir(), "tmp.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a transient network was saved: %v", err)
	}
	if err := td.NetworkDestroy(ref); err != nil {
		t.Fatal(err)
	}

	// Creating a defined, inactive network runs the given definition
	// and leaves the persistent one as it was.
	pref := mustDefineNet(t, td.Driver, loXML("per", netUUID1))
	live := strings.Replace(loXML("per", netUUID1), "</network>", "<title>live</title></network>", 1)
	if _, err := td.NetworkCreateXML(live, 0); err != nil {
		t.Fatal(err)
	}
	if xml, _ := td.NetworkXMLDesc(pref, 0); !strings.Contains(xml, "<title>live</title>") {
		t.Errorf("live definition not used:\n%s", xml)
	}
	if xml, _ := td.NetworkXMLDesc(pref, NetworkXMLInactive); strings.Contains(xml, "<title>") {
		t.Errorf("persistent definition changed:\n%s", xml)
	}
	if err := td.NetworkDestroy(pref); err != nil {
		t.Fatal(err)
	}
	if p, _ := td.NetworkIsPersistent(pref); !p {
		t.Error("the persistent network went away with its transient run")
	}
	want := []string{"tmp:started", "tmp:stopped", "per:defined", "per:started", "per:stopped"}
	if got := td.events(); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestNetworkListFilters(t *testing.T) {
	td := newNetTestDriver(t)
	auto := mustDefineNet(t, td.Driver, loXML("auto", ""))
	if err := td.NetworkSetAutostart(auto, true); err != nil {
		t.Fatal(err)
	}
	up := mustDefineNet(t, td.Driver, loXML("up", ""))
	if err := td.NetworkCreate(up); err != nil {
		t.Fatal(err)
	}
	if _, err := td.NetworkCreateXML(loXML("trans", ""), 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		flags uint32
		want  []string
	}{
		{0, []string{"auto", "default", "trans", "up"}},
		{ListNetworksActive, []string{"trans", "up"}},
		{ListNetworksInactive, []string{"auto", "default"}},
		{ListNetworksActive | ListNetworksInactive, []string{"auto", "default", "trans", "up"}},
		{ListNetworksPersistent, []string{"auto", "default", "up"}},
		{ListNetworksTransient, []string{"trans"}},
		{ListNetworksAutostart, []string{"auto"}},
		{ListNetworksNoAutostart, []string{"default", "trans", "up"}},
		{ListNetworksActive | ListNetworksPersistent, []string{"up"}},
		{ListNetworksInactive | ListNetworksNoAutostart, []string{"default"}},
	}
	for _, tt := range tests {
		got, err := td.ListNetworks(tt.flags)
		if err != nil || !slices.Equal(names(got), tt.want) {
			t.Errorf("ListNetworks(%d) = %v, %v; want %v", tt.flags, names(got), err, tt.want)
		}
	}
	if _, err := td.ListNetworks(64); kindOf(t, err) != KindInvalidArg {
		t.Errorf("unknown flag: %v", err)
	}
}

// TestNetworkRestart checks what a restarted daemon finds: running
// networks (persistent and transient) taken over, autostart networks
// started, and a network whose bridge is gone cleaned up.
func TestNetworkRestart(t *testing.T) {
	td := newNetTestDriver(t)
	up := mustDefineNet(t, td.Driver, loXML("up", ""))
	if err := td.NetworkCreate(up); err != nil {
		t.Fatal(err)
	}
	trans, err := td.NetworkCreateXML(loXML("trans", ""), 0)
	if err != nil {
		t.Fatal(err)
	}
	auto := mustDefineNet(t, td.Driver, loXML("auto", ""))
	if err := td.NetworkSetAutostart(auto, true); err != nil {
		t.Fatal(err)
	}
	gone := mustDefineNet(t, td.Driver, loXML("gone", ""))
	if err := td.NetworkCreate(gone); err != nil {
		t.Fatal(err)
	}
	td.Close()
	status := filepath.Join(td.dir, "run", "network", "gone.xml")
	b, _ := os.ReadFile(status)
	if err := os.WriteFile(status, []byte(strings.Replace(string(b), "name='lo'", "name='nsvtnone0'", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	td.open(t)
	for _, r := range []NetworkRef{up, trans, auto} {
		if a, err := td.NetworkIsActive(r); err != nil || !a {
			t.Errorf("%s active after restart: %v %v", r.Name, a, err)
		}
	}
	if a, err := td.NetworkAutostart(auto); err != nil || !a {
		t.Errorf("autostart lost in the restart: %v %v", a, err)
	}
	if p, _ := td.NetworkIsPersistent(trans); p {
		t.Error("transient network came back persistent")
	}
	if a, _ := td.NetworkIsActive(gone); a {
		t.Error("network without its bridge taken over as active")
	}
	if _, err := os.Stat(status); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("status file of a dead network left: %v", err)
	}
	if !strings.Contains(td.log.String(), "network did not survive") {
		t.Errorf("log:\n%s", td.log.String())
	}
}

func TestNetworkQueries(t *testing.T) {
	td := newNetTestDriver(t)
	ref := mustDefineNet(t, td.Driver, loXML("lan", netUUID1))
	if r, err := td.NetworkLookupByUUID(ref.UUID); err != nil || r != ref {
		t.Fatalf("lookup by UUID: %+v %v", r, err)
	}
	if _, err := td.NetworkLookupByUUID(UUID{1}); kindOf(t, err) != KindNoNetwork ||
		err.Error() != "no network with matching uuid '01000000-0000-0000-0000-000000000000'" {
		t.Fatalf("unknown UUID: %v", err)
	}
	if leases, err := td.NetworkDHCPLeases(ref, "", 0); err != nil || len(leases) != 0 {
		t.Fatalf("leases of an inactive network: %v %v", leases, err)
	}
	if _, err := td.NetworkDHCPLeases(ref, "52:54:00:zz:00:01", 0); kindOf(t, err) != KindInvalidMAC {
		t.Fatalf("bad MAC: %v", err)
	}
	if _, err := td.NetworkXMLDesc(ref, 2); kindOf(t, err) != KindInvalidArg {
		t.Fatalf("bad flags: %v", err)
	}
	if l, err := td.networkLeases("lan"); l != nil || err != nil {
		t.Fatalf("networkLeases of an inactive network: %v %v", l, err)
	}
	if _, err := td.networkBridge("nope"); kindOf(t, err) != KindNoNetwork {
		t.Fatalf("networkBridge of an unknown network: %v", err)
	}
	td.networkConnections("nope", 1) // ignored
	for _, name := range []string{"..", "a b/c", "web-1_x", "ünï"} {
		base := filepath.Base(td.nets.dnsmasqDir(name))
		if back, ok := networkOfDnsmasqDir(base); !ok || back != name || strings.ContainsAny(base, " /") {
			t.Errorf("dnsmasq directory of %q: %q, back to %q %v", name, base, back, ok)
		}
	}
	if _, ok := networkOfDnsmasqDir("x.zz"); ok {
		t.Error("networkOfDnsmasqDir accepted a name dnsmasqDir never makes")
	}
}
