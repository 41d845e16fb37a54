package nat

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestTableNames(t *testing.T) {
	tests := []struct{ name, table string }{
		{"default", "nsvirt-default"},
		{"my-net_2", "nsvirt-my-net_2"},
		{"a b", "nsvirt-a.20b"},
		{"x.y", "nsvirt-x.2ey"},
		{"ünï", "nsvirt-.c3.bcn.c3.af"},
		{`q"\`, "nsvirt-q.22.5c"},
	}
	for _, tc := range tests {
		if got := Table(tc.name); got != tc.table {
			t.Errorf("Table(%q) = %q, want %q", tc.name, got, tc.table)
		}
		got, ok := NetworkOfTable(tc.table)
		if !ok || got != tc.name {
			t.Errorf("NetworkOfTable(%q) = %q, %v, want %q", tc.table, got, ok, tc.name)
		}
	}
	for _, bad := range []string{"filter", "nsvirt-", "nsvirt-a.2", "nsvirt-a.zz", "nsvirt-a.2F", "nsvirt-a b"} {
		if name, ok := NetworkOfTable(bad); ok {
			t.Errorf("NetworkOfTable(%q) = %q, want not ours", bad, name)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Network{Name: "n", Bridge: "br0", Mode: NAT, Subnets: prefixes("10.0.0.0/24")}
	tests := []struct {
		name   string
		modify func(*Network)
		want   string
	}{
		{"empty_name", func(n *Network) { n.Name = "" }, "empty name"},
		{"long_name", func(n *Network) { n.Name = strings.Repeat("x", 250) }, "too long"},
		{"no_bridge", func(n *Network) { n.Bridge = "" }, "empty interface name"},
		{"long_bridge", func(n *Network) { n.Bridge = "abcdefghijklmnop" }, "longer than 15"},
		{"quote_bridge", func(n *Network) { n.Bridge = `br"0` }, "bad interface name"},
		{"space_outdev", func(n *Network) { n.OutDev = "eth 0" }, "bad interface name"},
		{"unmasked", func(n *Network) { n.Subnets = []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")} }, "not a masked"},
		{"mapped", func(n *Network) { n.Subnets = []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/120")} }, "not a masked"},
		{"ports", func(n *Network) { n.Ports = PortRange{2000, 1000} }, "port range"},
		{"mode", func(n *Network) { n.Mode = 9 }, "unknown forward mode"},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid network: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := ok
			tc.modify(&n)
			err := n.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{Isolated: "none", NAT: "nat", Route: "route", Open: "open", 7: "Mode(7)"} {
		if got := m.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(m), got, want)
		}
	}
}

func TestParseTables(t *testing.T) {
	in := `{"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
	{"table": {"family": "inet", "name": "nsvirt-default", "handle": 3}},
	{"table": {"family": "ip", "name": "nsvirt-notours", "handle": 4}},
	{"table": {"family": "inet", "name": "filter", "handle": 5}},
	{"table": {"family": "inet", "name": "nsvirt-a.20b", "handle": 6}}]}`
	got, err := parseTables(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a b,default" {
		t.Errorf("parseTables = %q", got)
	}
	if _, err := parseTables(strings.NewReader("Error: oops")); err == nil {
		t.Error("parseTables accepted garbage")
	}
}
