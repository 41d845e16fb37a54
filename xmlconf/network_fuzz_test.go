package xmlconf

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

// FuzzNetwork checks that parsing a network never panics and that
// formatting is stable: whatever ParseNetwork accepts, FormatNetwork
// writes, ParseNetwork accepts again, validating and without dropping
// anything, and FormatNetwork then writes the same bytes. Each input is
// tried as a whole document and, so that more inputs reach the
// formatter, inside a valid NAT network.
func FuzzNetwork(f *testing.F) {
	for _, doc := range []string{
		natNet, DefaultNetworkXML(netip.Prefix{}),
		netDoc("<forward mode='bridge'/><bridge name='br0'/>"),
		netDoc("<forward mode='route' dev='eth0'/><ip address='10.0.0.1' prefix='24'/><route address='10.1.0.0' prefix='16' gateway='10.0.0.2'/>"),
		netDoc("<ip family='ipv6' address='fd00::1' prefix='64'><dhcp><range start='fd00::10' end='fd00::20'/></dhcp></ip>"),
		dnsDoc("<host ip='10.0.0.9'><hostname>a</hostname></host><srv service='s' protocol='tcp'/><txt name='t' value='v'/>"),
		"<dhcp><host mac='52:54:00:00:00:01' name='h' ip='10.0.0.5'/></dhcp>",
		"<mtu size='1400'/><domain name='x' localOnly='yes'/>",
		"<metadata><a:b xmlns:a='urn:a'>t</a:b></metadata>",
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkNetworkStable(t, doc)
		checkNetworkStable(t, []byte(strings.Replace(natNet, "</network>", string(doc)+"</network>", 1)))
	})
}

// checkNetworkStable checks the format, parse, format cycle of one
// network document.
func checkNetworkStable(t *testing.T, doc []byte) {
	t.Helper()
	n, _, err := ParseNetwork(doc, NetworkParseOptions{Rand: bytes.NewReader(make([]byte, 32))})
	if err != nil {
		return
	}
	first, err := FormatNetwork(n, NetworkFormatOptions{Inactive: true})
	if err != nil {
		t.Fatalf("FormatNetwork of a parsed document: %v", err)
	}
	n2, warnings, err := ParseNetwork([]byte(first), NetworkParseOptions{Validate: true})
	if err != nil || len(warnings) > 0 {
		t.Fatalf("ParseNetwork (validating) of formatted output: %v %q\n%s", err, warnings, first)
	}
	second, err := FormatNetwork(n2, NetworkFormatOptions{Inactive: true})
	if err != nil {
		t.Fatalf("second FormatNetwork: %v", err)
	}
	if second != first {
		t.Fatalf("formatting is not stable:\n%s\nfirst:\n%s", lineDiff(first, second), first)
	}
	if _, err := FormatNetwork(n2.Started(), NetworkFormatOptions{Connections: 1}); err != nil {
		t.Fatalf("FormatNetwork of the running form: %v", err)
	}
}
