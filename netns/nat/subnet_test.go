package nat

import (
	"errors"
	"net/netip"
	"testing"
)

// fakeHost is a typical host: a default route, a LAN, a VPN route, a
// docker bridge, and IPv6 with link-local routes.
var fakeHost = []HostRoute{
	{Dst: netip.MustParsePrefix("0.0.0.0/0"), Dev: "eth0"},
	{Dst: netip.MustParsePrefix("192.168.1.0/24"), Dev: "eth0"},
	{Dst: netip.MustParsePrefix("10.0.0.0/8"), Dev: "tun0"},
	{Dst: netip.MustParsePrefix("203.0.113.0/24")},
	{Dst: netip.MustParsePrefix("::/0"), Dev: "eth0"},
	{Dst: netip.MustParsePrefix("fe80::/64"), Dev: "eth0"},
	{Dst: netip.MustParsePrefix("ff00::/8"), Dev: "eth0"},
	{Dst: netip.MustParsePrefix("2001:db8:1::/64"), Dev: "eth0"},
	{Dst: netip.MustParsePrefix("127.0.0.1/8"), Dev: "lo", Address: true},
	{Dst: netip.MustParsePrefix("172.17.0.1/16"), Dev: "docker0", Address: true},
	{Dst: netip.MustParsePrefix("fe80::1/64"), Dev: "eth0", Address: true},
}

func TestOverlaps(t *testing.T) {
	tests := []struct {
		subnet string
		want   string
	}{
		{"192.168.122.0/24", ""},
		{"10.0.0.0/24", "network 10.0.0.0/24 overlaps the host route 10.0.0.0/8 dev tun0"},
		{"10.0.0.0/7", "network 10.0.0.0/7 overlaps the host route 10.0.0.0/8 dev tun0"},
		{"192.168.1.128/25", "network 192.168.1.128/25 overlaps the host route 192.168.1.0/24 dev eth0"},
		{"172.17.5.0/24", "network 172.17.5.0/24 overlaps the host address 172.17.0.1/16 on docker0"},
		{"127.5.0.0/16", "network 127.5.0.0/16 overlaps the host address 127.0.0.1/8 on lo"},
		{"203.0.113.64/26", "network 203.0.113.64/26 overlaps the host route 203.0.113.0/24"},
		{"2001:db8:1::/48", "network 2001:db8:1::/48 overlaps the host route 2001:db8:1::/64 dev eth0"},
		{"2001:db8:2::/64", ""},
		{"fd00:1::/64", ""},
		{"192.168.1.7/24", "network 192.168.1.0/24 overlaps the host route 192.168.1.0/24 dev eth0"},
	}
	for _, tc := range tests {
		err := Overlaps(netip.MustParsePrefix(tc.subnet), fakeHost...)
		if tc.want == "" {
			if err != nil {
				t.Errorf("Overlaps(%s) = %v, want nil", tc.subnet, err)
			}
			continue
		}
		var oe *OverlapError
		if !errors.As(err, &oe) || err.Error() != tc.want {
			t.Errorf("Overlaps(%s) = %v, want %q", tc.subnet, err, tc.want)
		}
	}
}

func TestOverlapsEmpty(t *testing.T) {
	if err := Overlaps(netip.MustParsePrefix("10.0.0.0/24")); err != nil {
		t.Errorf("Overlaps with no routes = %v", err)
	}
}
