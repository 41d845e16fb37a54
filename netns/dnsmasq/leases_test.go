package dnsmasq

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testSubnets = []netip.Prefix{netip.MustParsePrefix("192.168.122.0/24"), netip.MustParsePrefix("fd00:122::/64")}

func TestLeases(t *testing.T) {
	got, err := Leases("testdata/mixed.leases", testSubnets...)
	if err != nil {
		t.Fatal(err)
	}
	want := []Lease{
		{Expiry: time.Unix(1700003600, 0), MAC: mustMAC("52:54:00:aa:bb:cc"), IP: addr("192.168.122.10"), Prefix: 24,
			Hostname: "web", ClientID: "01:52:54:00:aa:bb:cc"},
		{Expiry: time.Unix(1700007200, 0), MAC: mustMAC("52:54:00:11:22:33"), IP: addr("192.168.122.99"), Prefix: 24},
		{MAC: mustMAC("52:54:00:44:55:66"), IP: addr("192.168.122.50"), Prefix: 24, Hostname: "forever"},
		{Expiry: time.Unix(1700000000, 0), MAC: mustMAC("80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:0b:0c"),
			IP: addr("192.168.122.77"), Prefix: 24, Hostname: "ib-host"},
		{Expiry: time.Unix(1700003600, 0), MAC: mustMAC("52:54:00:aa:bb:cc"), IP: addr("fd00:122::1a2"), Prefix: 64,
			Hostname: "web", ClientID: "00:01:00:01:2c:d3:11:23:52:54:00:aa:bb:cc", IAID: 1431655765},
		{Expiry: time.Unix(1700003600, 0), MAC: mustMAC("52:54:00:11:22:33"), IP: addr("fd00:122::1b3"), Prefix: 64,
			ClientID: "00:03:00:01:52:54:00:11:22:33", IAID: 7, Temporary: true},
		{Expiry: time.Unix(1700003600, 0), IP: addr("fd00:9::5"), Hostname: "other",
			ClientID: "00:02:00:00:ab:11:01:02:03:04", IAID: 99},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d leases, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("lease %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestLeasesBadLines(t *testing.T) {
	got, err := Leases("testdata/bad.leases")
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("error = %v, want a LineError for line 2 first", err)
	}
	for _, line := range []string{"line 2 ", "line 3 ", "line 4 ", "line 5 ", "line 7 ", "line 8 "} {
		if !strings.Contains(err.Error(), line) {
			t.Errorf("error does not report %s: %v", line, err)
		}
	}
	var ips []string
	for _, l := range got {
		ips = append(ips, l.IP.String())
	}
	if strings.Join(ips, " ") != "192.168.122.10 fd00::3" {
		t.Errorf("good leases = %v", ips)
	}
	if got[1].MAC != nil || got[1].Prefix != 0 {
		t.Errorf("malformed DUID gave MAC %v, prefix %d", got[1].MAC, got[1].Prefix)
	}
}

func TestLeasesMissingAndEmpty(t *testing.T) {
	dir := t.TempDir()
	if l, err := Leases(filepath.Join(dir, "none")); l != nil || err != nil {
		t.Errorf("missing file: %v, %v", l, err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := Leases(empty); l != nil || err != nil {
		t.Errorf("empty file: %v, %v", l, err)
	}
	if _, err := Leases(dir); err == nil {
		t.Error("reading a directory succeeded")
	}
}

func TestMACFromDUID(t *testing.T) {
	tests := map[string]string{
		"00:01:00:01:2c:d3:11:23:52:54:00:aa:bb:cc":             "52:54:00:aa:bb:cc",
		"00:03:00:01:52:54:00:11:22:33":                         "52:54:00:11:22:33",
		"00:03:00:20:52:54:00:11:22:33":                         "", // not Ethernet
		"00:02:00:00:ab:11:01:02:03:04":                         "", // DUID-EN
		"00:04:12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0": "", // DUID-UUID
		"00:03:00:01:52:54":                                     "", // short
		"":                                                      "",
		"zz":                                                    "",
	}
	for duid, want := range tests {
		if got := MACFromDUID(duid); got.String() != want {
			t.Errorf("MACFromDUID(%q) = %q, want %q", duid, got, want)
		}
	}
}

func TestForMAC(t *testing.T) {
	leases, err := Leases("testdata/mixed.leases", testSubnets...)
	if err != nil {
		t.Fatal(err)
	}
	at := func(mac string, now int64) []string {
		var ips []string
		for _, l := range ForMAC(leases, mustMAC(mac), time.Unix(now, 0)) {
			ips = append(ips, l.IP.String())
		}
		return ips
	}
	if got := at("52:54:00:aa:bb:cc", 1700000000); !reflect.DeepEqual(got, []string{"192.168.122.10", "fd00:122::1a2"}) {
		t.Errorf("before expiry: %v", got)
	}
	if got := at("52:54:00:aa:bb:cc", 1700003600); got != nil {
		t.Errorf("at expiry: %v", got)
	}
	if got := at("52:54:00:44:55:66", 1<<40); !reflect.DeepEqual(got, []string{"192.168.122.50"}) {
		t.Errorf("infinite lease: %v", got)
	}
	if got := ForMAC(leases, net.HardwareAddr{1, 2, 3, 4, 5, 6}, time.Now()); got != nil {
		t.Errorf("unknown MAC: %v", got)
	}
}
