package nat

import (
	"net/netip"
	"strings"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

const wantNAT = `table inet nsvirt-default {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "virbr0" udp dport { 53, 67, 547 } accept
		iifname "virbr0" tcp dport 53 accept
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "virbr0" oifname "virbr0" accept
		iifname "virbr0" ip saddr 192.168.122.0/24 accept
		oifname "virbr0" ip daddr 192.168.122.0/24 ct state established,related accept
		iifname "virbr0" ip6 saddr fd00:122::/64 accept
		oifname "virbr0" ip6 daddr fd00:122::/64 accept
		iifname "virbr0" reject
		oifname "virbr0" reject
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 192.168.122.0/24 oifname != "virbr0" meta l4proto { tcp, udp } masquerade to :1024-65535
		ip saddr 192.168.122.0/24 oifname != "virbr0" masquerade
	}
}
`

const wantRouteOutDev = `table inet nsvirt-routed {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "br-r" udp dport { 53, 67, 547 } accept
		iifname "br-r" tcp dport 53 accept
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "br-r" oifname "br-r" accept
		iifname "br-r" oifname "eth1" ip saddr 10.9.0.0/16 accept
		iifname "eth1" oifname "br-r" ip daddr 10.9.0.0/16 accept
		iifname "br-r" reject
		oifname "br-r" reject
	}
}
`

const wantIsolated = `table inet nsvirt-iso.20net {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "br-iso" udp dport { 53, 67, 547 } accept
		iifname "br-iso" tcp dport 53 accept
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "br-iso" oifname "br-iso" accept
		iifname "br-iso" reject
		oifname "br-iso" reject
	}
}
`

const wantNAT6OutDevPorts = `table inet nsvirt-n6 {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "br6" udp dport { 53, 67, 547 } accept
		iifname "br6" tcp dport 53 accept
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "br6" oifname "br6" accept
		iifname "br6" oifname "uplink" ip6 saddr fd00:6::/64 accept
		iifname "uplink" oifname "br6" ip6 daddr fd00:6::/64 ct state established,related accept
		iifname "br6" reject
		oifname "br6" reject
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip6 saddr fd00:6::/64 oifname "uplink" meta l4proto { tcp, udp } masquerade to :20000-29999
		ip6 saddr fd00:6::/64 oifname "uplink" masquerade
	}
}
`

// rulesetCase is a network and the ruleset it should give ("" for the
// IPv6-only NAT network, which is checked for the absence of masquerading).
type rulesetCase struct {
	name string
	n    Network
	want string
}

func rulesetCases() []rulesetCase {
	return []rulesetCase{
		{"nat", Network{Name: "default", Bridge: "virbr0", Mode: NAT,
			Subnets: prefixes("192.168.122.0/24", "fd00:122::/64")}, wantNAT},
		{"route_outdev", Network{Name: "routed", Bridge: "br-r", Mode: Route, OutDev: "eth1",
			Subnets: prefixes("10.9.0.0/16")}, wantRouteOutDev},
		{"isolated", Network{Name: "iso net", Bridge: "br-iso", Mode: Isolated,
			Subnets: prefixes("10.10.0.0/24")}, wantIsolated},
		{"nat6_outdev_ports", Network{Name: "n6", Bridge: "br6", Mode: NAT, NAT6: true, OutDev: "uplink",
			Ports: PortRange{20000, 29999}, Subnets: prefixes("fd00:6::/64")}, wantNAT6OutDevPorts},
		{"open", Network{Name: "o", Bridge: "br-o", Mode: Open,
			Subnets: prefixes("10.11.0.0/24")}, "table inet nsvirt-o {\n}\n"},
		{"nat_no_v4", Network{Name: "v6only", Bridge: "br", Mode: NAT,
			Subnets: prefixes("fd00::/64")}, ""},
	}
}

func TestRuleset(t *testing.T) {
	for _, tc := range rulesetCases() {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.n.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got := Ruleset(tc.n)
			if tc.want == "" {
				if strings.Contains(got, "postrouting") || strings.Contains(got, "masquerade") {
					t.Errorf("IPv6-only NAT network without NAT6 masquerades:\n%s", got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("Ruleset:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestReplaceAndDeleteScripts(t *testing.T) {
	n := Network{Name: "a/b", Bridge: "br0", Mode: Open}
	want := "table inet nsvirt-a.2fb\ndelete table inet nsvirt-a.2fb\ntable inet nsvirt-a.2fb {\n}\n"
	if got := replaceScript(n); got != want {
		t.Errorf("replaceScript = %q, want %q", got, want)
	}
	if got := deleteScript("a/b"); got != "table inet nsvirt-a.2fb\ndelete table inet nsvirt-a.2fb\n" {
		t.Errorf("deleteScript = %q", got)
	}
}
