package xmlconf

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// netRand is a deterministic random source: the UUID comes first, then the
// bridge MAC address.
func netRand() *bytes.Reader {
	return bytes.NewReader([]byte{
		0x8e, 0x91, 0x1c, 0x4b, 0x2a, 0x3d, 0x4e, 0x5f, 0x96, 0x07, 0x18, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, // UUID
		0xab, 0xcd, 0xef, // MAC
	})
}

// netOpts are the options of the tests, with the deterministic random
// source.
func netOpts() NetworkParseOptions { return NetworkParseOptions{Rand: netRand()} }

// natNet is a NAT network with static DHCP hosts, written as a user
// would.
const natNet = `<network>
  <name>web</name>
  <forward mode="nat"/>
  <bridge name="virbr5"/>
  <domain name="web.test" localOnly="yes"/>
  <ip address="192.168.100.1" netmask="255.255.255.0">
    <dhcp>
      <range start="192.168.100.2" end="192.168.100.254"/>
      <host mac="52:54:00:AA:BB:01" name="front" ip="192.168.100.10"/>
      <host mac="52:54:00:aa:bb:02" name="back" ip="192.168.100.11"/>
    </dhcp>
  </ip>
</network>
`

// natNetOut is natNet as ParseNetwork completes it and FormatNetwork
// writes it.
const natNetOut = `<network>
  <name>web</name>
  <uuid>8e911c4b-2a3d-4e5f-9607-18293a4b5c6d</uuid>
  <forward mode='nat'/>
  <bridge name='virbr5' stp='on' delay='0'/>
  <mac address='52:54:00:ab:cd:ef'/>
  <domain name='web.test' localOnly='yes'/>
  <ip address='192.168.100.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.100.2' end='192.168.100.254'/>
      <host mac='52:54:00:AA:BB:01' name='front' ip='192.168.100.10'/>
      <host mac='52:54:00:aa:bb:02' name='back' ip='192.168.100.11'/>
    </dhcp>
  </ip>
</network>
`

// netDoc returns a network named n with body inside <network>.
func netDoc(body string) string {
	return "<network>\n  <name>n</name>\n" + body + "\n</network>\n"
}

// natDoc returns a NAT network named n with the given <ip> and more.
func natDoc(extra string) string {
	return netDoc("<forward mode='nat'/><ip address='10.0.0.1' prefix='24'/>" + extra)
}

// dhcpDoc returns a network named n whose <ip> 10.0.0.1/24 has the given
// <dhcp> content.
func dhcpDoc(dhcp string) string {
	return netDoc("<ip address='10.0.0.1' prefix='24'><dhcp>" + dhcp + "</dhcp></ip>")
}

// dnsDoc returns a NAT network named n with the given <dns> content.
func dnsDoc(dns string) string {
	return natDoc("<dns>" + dns + "</dns>")
}

func TestParseNetworkDefaults(t *testing.T) {
	n, warnings, err := ParseNetwork([]byte(natNet), netOpts())
	if err != nil || len(warnings) > 0 {
		t.Fatalf("ParseNetwork: %v %q", err, warnings)
	}
	got, err := FormatNetwork(n, NetworkFormatOptions{Inactive: true})
	if err != nil {
		t.Fatal(err)
	}
	if got != natNetOut {
		t.Fatalf("FormatNetwork:\n%s\nwant:\n%s", got, natNetOut)
	}
}

func TestNetworkRoundTrip(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"nat with dhcp hosts", natNet, natNetOut},
		{"default", DefaultNetworkXML(netip.Prefix{}), `<network>
  <name>default</name>
  <uuid>8e911c4b-2a3d-4e5f-9607-18293a4b5c6d</uuid>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <mac address='52:54:00:ab:cd:ef'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
`},
		{"libvirt's default.xml", `<network>
  <name>default</name>
  <bridge name='virbr0'/>
  <forward/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
`, ""},
		{"route with forward dev and static route", `<network>
  <name>routed</name>
  <uuid>81FF0D90-C91E-6742-64DA-4A736EDB9A9B</uuid>
  <forward mode='route' dev='eth1'/>
  <bridge name='virbr1' stp='off' delay='+5'/>
  <mtu size='9000'/>
  <mac address='52:54:00:00:00:FE'/>
  <ip address='192.168.122.1' prefix='24'/>
  <route address='10.20.0.0' prefix='16' gateway='192.168.122.2' metric='3'/>
  <route address='0.0.0.0' prefix='0' gateway='192.168.122.3'/>
</network>`, `<network>
  <name>routed</name>
  <uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid>
  <forward dev='eth1' mode='route'>
    <interface dev='eth1'/>
  </forward>
  <bridge name='virbr1' stp='off' delay='5'/>
  <mtu size='9000'/>
  <mac address='52:54:00:00:00:fe'/>
  <ip address='192.168.122.1' prefix='24'>
  </ip>
  <route address='10.20.0.0' prefix='16' gateway='192.168.122.2' metric='3'/>
  <route address='0.0.0.0' prefix='0' gateway='192.168.122.3'/>
</network>
`},
		{"open", `<network><name>opened</name><forward mode='open'/><bridge name='virbr9'/>
<ip address='172.16.0.1' prefix='16'/></network>`, `<network>
  <name>opened</name>
  <uuid>8e911c4b-2a3d-4e5f-9607-18293a4b5c6d</uuid>
  <forward mode='open'/>
  <bridge name='virbr9' stp='on' delay='0'/>
  <mac address='52:54:00:ab:cd:ef'/>
  <ip address='172.16.0.1' prefix='16'>
  </ip>
</network>
`},
		{"isolated, IPv6 and IPv4", `<network ipv6='yes'>
  <name>isolated</name>
  <ip family='ipv6' address='2001:DB8:ac10:fe01::1' prefix='64'>
    <dhcp>
      <range start='2001:db8:ac10:fe01::100' end='2001:db8:ac10:fe01::1ff'/>
      <host id='0:4:7e:7d:f0:7d:a8:bc:c5:d2:13:32:11:ed:16:ea:84:63' name='h6' ip='2001:db8:ac10:fe01::20'/>
    </dhcp>
  </ip>
  <ip family='ipv4' address='10.24.10.1'/>
</network>`, `<network ipv6='yes'>
  <name>isolated</name>
  <uuid>8e911c4b-2a3d-4e5f-9607-18293a4b5c6d</uuid>
  <bridge name='virbr0' stp='on' delay='0'/>
  <mac address='52:54:00:ab:cd:ef'/>
  <ip family='ipv6' address='2001:db8:ac10:fe01::1' prefix='64'>
    <dhcp>
      <range start='2001:db8:ac10:fe01::100' end='2001:db8:ac10:fe01::1ff'/>
      <host id='0:4:7e:7d:f0:7d:a8:bc:c5:d2:13:32:11:ed:16:ea:84:63' name='h6' ip='2001:db8:ac10:fe01::20'/>
    </dhcp>
  </ip>
  <ip family='ipv4' address='10.24.10.1'>
  </ip>
</network>
`},
		{"bridge mode", `<network><name>host-bridge</name><forward mode='bridge'/><bridge name='br0'/></network>`, `<network>
  <name>host-bridge</name>
  <uuid>8e911c4b-2a3d-4e5f-9607-18293a4b5c6d</uuid>
  <forward mode='bridge'/>
  <bridge name='br0'/>
</network>
`},
		{"dns records", `<network>
  <name>dns</name>
  <forward/>
  <bridge name='virbr3'/>
  <dns enable='yes' forwardPlainNames='no'>
    <host ip='192.168.122.2'><hostname>shared</hostname><hostname>names</hostname></host>
    <host ip='fd8f:1391:3a82:150::c0a8:9603'><hostname>six</hostname></host>
    <txt name='example' value='example value'/>
    <forwarder addr='8.8.8.8'/>
    <forwarder domain='example.com' addr='192.168.1.1'/>
    <forwarder domain='www.example.com'/>
    <srv service='name' protocol='tcp' domain='test-domain-name' target='.' port='1024' priority='10' weight='10'/>
    <srv service='minimal' protocol='udp'/>
  </dns>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <tftp root='/var/lib/tftp'/>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'>
        <lease expiry='1' unit='hours'/>
      </range>
      <host mac='00:16:3e:77:e2:ed' name='a.example.com' ip='192.168.122.10'>
        <lease expiry='0'/>
      </host>
      <bootp file='pxelinux.0' server='192.168.122.2'/>
    </dhcp>
  </ip>
</network>`, `<network>
  <name>dns</name>
  <uuid>8e911c4b-2a3d-4e5f-9607-18293a4b5c6d</uuid>
  <forward mode='nat'/>
  <bridge name='virbr3' stp='on' delay='0'/>
  <mac address='52:54:00:ab:cd:ef'/>
  <dns enable='yes' forwardPlainNames='no'>
    <forwarder addr='8.8.8.8'/>
    <forwarder domain='example.com' addr='192.168.1.1'/>
    <forwarder domain='www.example.com'/>
    <txt name='example' value='example value'/>
    <srv service='name' protocol='tcp' domain='test-domain-name' target='.' port='1024' priority='10' weight='10'/>
    <srv service='minimal' protocol='udp'/>
    <host ip='192.168.122.2'>
      <hostname>shared</hostname>
      <hostname>names</hostname>
    </host>
    <host ip='fd8f:1391:3a82:150::c0a8:9603'>
      <hostname>six</hostname>
    </host>
  </dns>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <tftp root='/var/lib/tftp'/>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'>
        <lease expiry='1' unit='hours'/>
      </range>
      <host mac='00:16:3e:77:e2:ed' name='a.example.com' ip='192.168.122.10'>
        <lease expiry='0'/>
      </host>
      <bootp file='pxelinux.0' server='192.168.122.2'/>
    </dhcp>
  </ip>
</network>
`},
		{"nat address and port range, title and metadata", `<network trustGuestRxFilters='no'>
  <name>natty</name>
  <title>A NAT network</title>
  <description>For &lt;tests&gt;</description>
  <metadata><app:info xmlns:app='urn:app'><app:owner>me</app:owner></app:info></metadata>
  <forward mode='nat'>
    <nat ipv6='yes'>
      <address start='198.51.100.10' end='198.51.100.20'/>
      <port start='500' end='1000'/>
    </nat>
  </forward>
  <ip address='192.168.50.1' prefix='24'/>
  <ip family='ipv6' address='fd00::1' prefix='64'/>
</network>`, `<network trustGuestRxFilters='no'>
  <name>natty</name>
  <uuid>8e911c4b-2a3d-4e5f-9607-18293a4b5c6d</uuid>
  <title>A NAT network</title>
  <description>For &lt;tests&gt;</description>
  <metadata>
    <app:info xmlns:app="urn:app">
      <app:owner>me</app:owner>
    </app:info>
  </metadata>
  <forward mode='nat'>
    <nat ipv6='yes'>
      <address start='198.51.100.10' end='198.51.100.20'/>
      <port start='500' end='1000'/>
    </nat>
  </forward>
  <bridge name='virbr0' stp='on' delay='0'/>
  <mac address='52:54:00:ab:cd:ef'/>
  <ip address='192.168.50.1' prefix='24'>
  </ip>
  <ip family='ipv6' address='fd00::1' prefix='64'>
  </ip>
</network>
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := defineAndFormat(t, tc.doc, NetworkParseOptions{Rand: netRand()})
			if tc.want != "" && first != tc.want {
				t.Fatalf("first definition:\n%s\nwant:\n%s", first, tc.want)
			}
			second := defineAndFormat(t, first, NetworkParseOptions{Validate: true})
			if second != first {
				t.Fatalf("redefining net-dumpxml output changes it:\n%s", lineDiff(first, second))
			}
		})
	}
}

// defineAndFormat parses doc (refusing warnings) and formats the result
// as net-dumpxml --inactive does.
func defineAndFormat(t *testing.T, doc string, opts NetworkParseOptions) string {
	t.Helper()
	n, warnings, err := ParseNetwork([]byte(doc), opts)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("ParseNetwork: %v %q\n%s", err, warnings, doc)
	}
	out, err := FormatNetwork(n, NetworkFormatOptions{Inactive: true})
	if err != nil {
		t.Fatalf("FormatNetwork: %v", err)
	}
	return out
}

func TestFormatNetworkActive(t *testing.T) {
	n, _, err := ParseNetwork([]byte(natNet), netOpts())
	if err != nil {
		t.Fatal(err)
	}
	live := n.Started()
	active, err := FormatNetwork(live, NetworkFormatOptions{Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(natNetOut, "<network>", "<network connections='2'>", 1)
	want = strings.Replace(want, "  <forward mode='nat'/>\n",
		"  <forward mode='nat'>\n    <nat>\n      <port start='1024' end='65535'/>\n    </nat>\n  </forward>\n", 1)
	if active != want {
		t.Fatalf("active XML:\n%s\nwant:\n%s", active, want)
	}
	inactive, _ := FormatNetwork(live, NetworkFormatOptions{Inactive: true, Connections: 2})
	if strings.Contains(inactive, "connections") {
		t.Fatalf("inactive XML has the connection count:\n%s", inactive)
	}
	idle, _ := FormatNetwork(n, NetworkFormatOptions{})
	if idle != natNetOut {
		t.Fatalf("active XML without connections:\n%s", idle)
	}
	if n.Def.Forward.NAT != nil {
		t.Fatal("Started changed the persistent definition")
	}
	// The XML of a running network defines the same network again; the
	// connection count is dropped silently.
	again := defineAndFormat(t, active, NetworkParseOptions{Validate: true})
	if !strings.Contains(again, "<port start='1024' end='65535'/>") || strings.Contains(again, "connections") {
		t.Fatalf("redefined active XML:\n%s", again)
	}
	// A NAT range given by the user is kept.
	given, _, _ := ParseNetwork([]byte(natDoc("")), netOpts())
	given.Def.Forward.NAT = nil
	if s, _ := FormatNetwork(given.Started(), NetworkFormatOptions{}); !strings.Contains(s, "<port start='1024' end='65535'/>") {
		t.Fatalf("Started without a range:\n%s", s)
	}
}

func TestParseNetworkErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		kind ErrorKind
		msg  string
	}{
		{"not well-formed", "<network><name>n</network>", ErrXMLDetail,
			"(network_definition):1: Opening and ending tag mismatch: name line 1 and network\n<network><name>n</network>\n--------------------------^"},
		{"root element", "<domain/>", ErrXML, "unexpected root element <domain>, expecting <network>"},
		{"no name", "<network/>", ErrNoName, "missing name information"},
		{"empty name", "<network><name></name></network>", ErrNoName, "missing name information"},
		{"slash in name", "<network><name>a/b</name></network>", ErrXMLDetail, "invalid char in name: 0x2f"},
		{"newline in name", "<network><name>a\nb</name></network>", ErrXMLDetail, "invalid char in name: 0x0a"},
		{"malformed uuid", netDoc("<uuid>81ff0d90-zz</uuid>"), ErrInternal, "malformed uuid element"},
		{"title newline", netDoc("<title>a\nb</title>"), ErrXML, "Network title can't contain newlines"},
		{"ipv6 setting", strings.Replace(netDoc(""), "<network>", "<network ipv6='maybe'>", 1), ErrXML,
			"Invalid ipv6 setting 'maybe' in network 'n'"},
		{"trustGuestRxFilters", strings.Replace(netDoc(""), "<network>", "<network trustGuestRxFilters='1'>", 1), ErrXML,
			"Invalid value for attribute 'trustGuestRxFilters' in element 'network': '1'."},

		// forward modes
		{"unknown mode", netDoc("<forward mode='tunnel'/>"), ErrConfigUnsupported, "unknown forwarding type 'tunnel'"},
		{"passthrough", netDoc("<forward mode='passthrough'><interface dev='eth0'/></forward>"), ErrConfigUnsupported,
			"unsupported forward mode 'passthrough' in network 'n'"},
		{"vepa", netDoc("<forward mode='vepa'/>"), ErrConfigUnsupported, "unsupported forward mode 'vepa' in network 'n'"},
		{"private", netDoc("<forward mode='private'/>"), ErrConfigUnsupported, "unsupported forward mode 'private' in network 'n'"},
		{"hostdev", netDoc("<forward mode='hostdev' managed='yes'><pf dev='eth0'/></forward>"), ErrConfigUnsupported,
			"unsupported forward mode 'hostdev' in network 'n'"},
		{"bridge without name", netDoc("<forward mode='bridge'/>"), ErrConfigUnsupported,
			"unsupported forward mode 'bridge' without a bridge name in network 'n': only an existing host bridge (<bridge name='...'/>) is supported"},
		{"bridge macvtap pool", netDoc("<forward mode='bridge'><interface dev='eth0'/></forward>"), ErrConfigUnsupported,
			"unsupported forward mode 'bridge' without a bridge name in network 'n': only an existing host bridge (<bridge name='...'/>) is supported"},
		{"bridge name and dev", netDoc("<forward mode='bridge' dev='eth0'/><bridge name='br0'/>"), ErrXML,
			"A network with forward mode='bridge' can specify a bridge name or a forward dev, but not both (network 'n')"},
		{"bridge stp", netDoc("<forward mode='bridge'/><bridge name='br0' stp='on'/>"), ErrXML,
			"bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in bridge (network 'n')"},
		{"bridge delay", netDoc("<forward mode='bridge'/><bridge name='br0' delay='2'/>"), ErrXML,
			"bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in bridge (network 'n')"},
		{"bridge mtu", netDoc("<forward mode='bridge'/><bridge name='br0'/><mtu size='9000'/>"), ErrXML,
			"mtu size only allowed in open, route, nat, and isolated mode, not in bridge (network 'n')"},
		{"bridge mac", netDoc("<forward mode='bridge'/><bridge name='br0'/><mac address='52:54:00:00:00:01'/>"), ErrConfigUnsupported,
			"Unsupported <mac> element in network n with forward mode='bridge'"},
		{"bridge ip", netDoc("<forward mode='bridge'/><bridge name='br0'/><ip address='10.0.0.1' prefix='24'/>"), ErrConfigUnsupported,
			"Unsupported <ip> element in network n with forward mode='bridge'"},
		{"bridge dns", netDoc("<forward mode='bridge'/><bridge name='br0'/><dns><txt name='a' value='b'/></dns>"), ErrConfigUnsupported,
			"Unsupported <dns> element in network n with forward mode='bridge'"},
		{"bridge domain", netDoc("<forward mode='bridge'/><bridge name='br0'/><domain name='x'/>"), ErrConfigUnsupported,
			"Unsupported <domain> element in network n with forward mode='bridge'"},
		{"nat without ip", netDoc("<forward mode='nat'/>"), ErrXML,
			"nat forwarding requested, but no IP address provided for network 'n'"},
		{"route without ip", netDoc("<forward mode='route'/>"), ErrXML,
			"route forwarding requested, but no IP address provided for network 'n'"},
		{"two forward interfaces", netDoc("<forward mode='nat'><interface dev='a'/><interface dev='b'/></forward><ip address='10.0.0.1'/>"), ErrXML,
			"multiple forwarding interfaces specified for network 'n', only one is supported"},
		{"open with dev", netDoc("<forward mode='open' dev='eth0'/><ip address='10.0.0.1'/>"), ErrXML,
			"forward dev not allowed for network 'n' with forward mode='open'"},
		{"forward dev mismatch", netDoc("<forward dev='a'><interface dev='b'/></forward><ip address='10.0.0.1'/>"), ErrXML,
			"<forward dev='a'> must match first <interface dev='b'/> in network n"},
		{"forward interface without dev", netDoc("<forward><interface/></forward><ip address='10.0.0.1'/>"), ErrXML,
			"Missing required dev attribute in <forward> <interface> element of network n"},
		{"forward interface twice", netDoc("<forward mode='bridge'><interface dev='a'/><interface dev='a'/></forward>"), ErrXML,
			"interface 'a' can only be listed once in network n"},
		{"nat in route mode", netDoc("<forward mode='route'><nat/></forward><ip address='10.0.0.1'/>"), ErrXML,
			"The <nat> element can only be used when <forward> 'mode' is 'nat' in network n"},
		{"two nats", netDoc("<forward><nat/><nat/></forward>"), ErrXML, "Only one <nat> element is allowed in <forward> of network n"},
		{"nat ipv6", netDoc("<forward><nat ipv6='on'/></forward>"), ErrXML, "Invalid value for attribute 'ipv6' in element 'nat': 'on'."},
		{"nat address without start", netDoc("<forward><nat><address end='1.2.3.4'/></nat></forward>"), ErrXML,
			"missing 'start' attribute in <address> element in <nat> in <forward> in network n"},
		{"nat address without end", netDoc("<forward><nat><address start='1.2.3.4'/></nat></forward>"), ErrXML,
			"missing 'end' attribute in <address> element in <nat> in <forward> in network n"},
		{"nat address ipv6", netDoc("<forward><nat><address start='::1' end='1.2.3.4'/></nat></forward>"), ErrXML,
			"Bad ipv4 start address '::1' in <nat> in <forward> in network 'n'"},
		{"nat address reversed", netDoc("<forward><nat><address start='1.2.3.9' end='1.2.3.4'/></nat></forward>"), ErrInternal,
			"range 1.2.3.9 - 1.2.3.4 is reversed "},
		{"nat port start", netDoc("<forward><nat><port start='x' end='2'/></nat></forward>"), ErrXMLDetail,
			"Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network n"},
		{"nat port end", netDoc("<forward><nat><port start='1024' end='80'/></nat></forward>"), ErrXMLDetail,
			"Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network n"},
		{"two nat ports", netDoc("<forward><nat><port start='1' end='2'/><port start='1' end='2'/></nat></forward>"), ErrXML,
			"Only one <port> element is allowed in <nat> in <forward> in network n"},

		// what nsvirt does not implement
		{"vlan", natDoc("<vlan><tag id='4'/></vlan>"), ErrConfigUnsupported,
			"unsupported configuration: <vlan> in network 'n' is not supported by this driver"},
		{"bandwidth", natDoc("<bandwidth><inbound average='1000'/></bandwidth>"), ErrConfigUnsupported,
			"unsupported configuration: <bandwidth> in network 'n' is not supported by this driver"},
		{"portgroup", natDoc("<portgroup name='p'/>"), ErrConfigUnsupported,
			"unsupported configuration: <portgroup> in network 'n' is not supported by this driver"},
		{"virtualport", netDoc("<forward mode='bridge'/><bridge name='br0'/><virtualport type='openvswitch'/>"), ErrConfigUnsupported,
			"unsupported configuration: <virtualport> in network 'n' is not supported by this driver"},
		{"isolated ports", natDoc("<port isolated='yes'/>"), ErrConfigUnsupported,
			"unsupported configuration: <port> in network 'n' is not supported by this driver"},
		{"dnsmasq options", strings.Replace(natDoc("<dnsmasq:options><dnsmasq:option value='x'/></dnsmasq:options>"),
			"<network>", "<network xmlns:dnsmasq='"+DnsmasqNamespace+"'>", 1), ErrConfigUnsupported,
			"unsupported configuration: dnsmasq options in network 'n' are not supported by this driver"},

		// bridge, MAC, MTU, domain
		{"bridge delay value", netDoc("<bridge delay='soon'/>"), ErrXML, "Invalid delay value in network 'n'"},
		{"macTableManager", netDoc("<bridge macTableManager='default'/>"), ErrXML, "Invalid macTableManager setting 'default' in network 'n'"},
		{"bad mac", netDoc("<mac address='52:54:00:00:00'/>"), ErrXML, "Invalid bridge mac address '52:54:00:00:00' in network 'n'"},
		{"multicast mac", netDoc("<mac address='01:00:5e:00:00:01'/>"), ErrXML,
			"Invalid multicast bridge mac address '01:00:5e:00:00:01' in network 'n'"},
		{"mtu", netDoc("<mtu size='big'/>"), ErrXML, "Invalid mtu size 'big' in network 'n'"},
		{"localOnly", netDoc("<domain name='x' localOnly='perhaps'/>"), ErrXML,
			"Invalid value for attribute 'localOnly' in element 'domain': 'perhaps'."},

		// dns
		{"forwarder address", dnsDoc("<forwarder addr='8.8.8'/>"), ErrXML, "Invalid forwarder IP address '8.8.8' in network 'n'"},
		{"empty forwarder", dnsDoc("<forwarder/>"), ErrXML, "Invalid forwarder element, must contain at least one of addr or domain"},
		{"dns host without hostname", dnsDoc("<host ip='10.0.0.5'/>"), ErrXMLDetail, "Missing hostname in network 'n' DNS HOST record"},
		{"dns host empty hostname", dnsDoc("<host ip='10.0.0.5'><hostname></hostname></host>"), ErrXMLDetail,
			"Missing hostname in network 'n' DNS HOST record"},
		{"dns host without ip", dnsDoc("<host><hostname>a</hostname></host>"), ErrXMLDetail, "Missing IP address in network 'n' DNS HOST record"},
		{"dns host bad ip", dnsDoc("<host ip='10.0.0'><hostname>a</hostname></host>"), ErrXMLDetail,
			"Invalid IP address in network 'n' DNS HOST record"},
		{"srv without service", dnsDoc("<srv protocol='tcp'/>"), ErrXMLDetail, "missing required service attribute in DNS SRV record of network 'n'"},
		{"srv service characters", dnsDoc("<srv service='a.b' protocol='tcp'/>"), ErrXMLDetail,
			"invalid character in service attribute 'a.b' in DNS SRV record of network 'n'"},
		{"srv service length", dnsDoc("<srv service='" + strings.Repeat("s", 483) + "' protocol='tcp'/>"), ErrXMLDetail,
			"service attribute '" + strings.Repeat("s", 483) + "' in network 'n' is too long, limit is 482 bytes"},
		{"srv without protocol", dnsDoc("<srv service='ldap'/>"), ErrXMLDetail,
			"missing required protocol attribute in DNS SRV record 'ldap' of network 'n'"},
		{"srv protocol characters", dnsDoc("<srv service='ldap' protocol='t_p'/>"), ErrXMLDetail,
			"invalid character in protocol attribute 't_p' in DNS SRV record of network 'n'"},
		{"srv port without target", dnsDoc("<srv service='ldap' protocol='tcp' port='389'/>"), ErrXMLDetail,
			"DNS SRV port attribute not permitted without target for service 'ldap' in network 'n'"},
		{"srv port with empty target", dnsDoc("<srv service='ldap' protocol='tcp' target='' port='389'/>"), ErrXMLDetail,
			"DNS SRV port attribute not permitted without target for service 'ldap' in network 'n'"},
		{"srv port zero", dnsDoc("<srv service='ldap' protocol='tcp' target='t' port='0'/>"), ErrXMLDetail,
			"invalid DNS SRV port attribute for service 'ldap' in network 'n'"},
		{"srv priority", dnsDoc("<srv service='ldap' protocol='tcp' target='t' priority='70000'/>"), ErrXMLDetail,
			"Invalid DNS SRV priority attribute for service 'ldap' in network 'n'"},
		{"txt without name", dnsDoc("<txt value='v'/>"), ErrXMLDetail, "missing required name attribute in DNS TXT record of network n"},
		{"txt name", dnsDoc("<txt name='a b' value='v'/>"), ErrXMLDetail, "prohibited character in DNS TXT record name 'a b' of network n"},
		{"disabled dns with data", natDoc("<dns enable='no'><txt name='a' value='v'/></dns>"), ErrXML, "Extra data in disabled network 'n'"},
		{"dns enable value", natDoc("<dns enable='on'/>"), ErrXML, "Invalid value for attribute 'enable' in element 'dns': 'on'."},

		// ip
		{"ip without address", netDoc("<ip prefix='24'/>"), ErrXML, "Missing required address attribute in network 'n'"},
		{"ip bad address", netDoc("<ip address='10.0.0.256'/>"), ErrXML, "Invalid address '10.0.0.256' in network 'n'"},
		{"ip bad netmask", netDoc("<ip address='10.0.0.1' netmask='255.255.0'/>"), ErrXML, "Invalid netmask '255.255.0' in network 'n'"},
		{"ip bad prefix", netDoc("<ip address='10.0.0.1' prefix='x'/>"), ErrXML,
			"Invalid value for attribute 'prefix' in element 'ip': 'x'. Expected non-negative integer value"},
		{"ip v6 without family", netDoc("<ip address='fd00::1'/>"), ErrConfigUnsupported,
			"no family specified for non-IPv4 address 'fd00::1' in network 'n'"},
		{"ip v6 as ipv4", netDoc("<ip family='ipv4' address='fd00::1'/>"), ErrConfigUnsupported,
			"ipv4 family specified for non-IPv4 address 'fd00::1' in network 'n'"},
		{"ip v6 netmask", netDoc("<ip address='10.0.0.1' netmask='ffff::'/>"), ErrConfigUnsupported,
			"Invalid netmask 'ffff::' for address '10.0.0.1' in network 'n' (both must be IPv4)"},
		{"ip prefix and netmask", netDoc("<ip address='10.0.0.1' netmask='255.0.0.0' prefix='8'/>"), ErrConfigUnsupported,
			"Network 'n' IP address cannot have both a prefix and a netmask"},
		{"ip v4 prefix", netDoc("<ip address='10.0.0.1' prefix='33'/>"), ErrConfigUnsupported, "Invalid IPv4 prefix '33' in network 'n'"},
		{"ip ipv6 family", netDoc("<ip family='ipv6' address='10.0.0.1'/>"), ErrConfigUnsupported,
			"Family 'ipv6' specified for non-IPv6 address '10.0.0.1' in network 'n'"},
		{"ip ipv6 netmask", netDoc("<ip family='ipv6' address='fd00::1' netmask='ffff::'/>"), ErrConfigUnsupported,
			"netmask not allowed for IPv6 address 'fd00::1' in network 'n'"},
		{"ip v6 prefix", netDoc("<ip family='ipv6' address='fd00::1' prefix='129'/>"), ErrConfigUnsupported,
			"Invalid IPv6 prefix '129' in network 'n'"},
		{"ip family", netDoc("<ip family='ipx' address='10.0.0.1'/>"), ErrXML, "Unrecognized family 'ipx' in network 'n'"},
		{"ip localPtr", netDoc("<ip address='10.0.0.1' localPtr='1'/>"), ErrXML,
			"Invalid value for attribute 'localPtr' in element 'ip': '1'."},
		{"tftp on ipv6", netDoc("<ip family='ipv6' address='fd00::1' prefix='64'><tftp root='/x'/></ip>"), ErrConfigUnsupported,
			"Unsupported <tftp> element in an IPv6 element in network 'n'"},

		// dhcp
		{"range without start", dhcpDoc("<range end='10.0.0.9'/>"), ErrXML, "Missing 'start' attribute in dhcp range for network 'n'"},
		{"range without end", dhcpDoc("<range start='10.0.0.9'/>"), ErrXML, "Missing 'end' attribute in dhcp range for network 'n'"},
		{"range bad address", dhcpDoc("<range start='10.0.0' end='10.0.0.9'/>"), ErrInternal,
			"Cannot parse socket address '10.0.0': Name or service not known"},
		{"range outside subnet", dhcpDoc("<range start='10.0.1.2' end='10.0.1.9'/>"), ErrInternal,
			"range 10.0.1.2 - 10.0.1.9 is not entirely within network 10.0.0.1/24"},
		{"range family", dhcpDoc("<range start='fd00::2' end='fd00::9'/>"), ErrInternal,
			"mismatch of address family in range fd00::2 - fd00::9 for network 10.0.0.1"},
		{"range mixed family", dhcpDoc("<range start='10.0.0.2' end='fd00::9'/>"), ErrInternal,
			"mismatch of address family in range 10.0.0.2 - fd00::9"},
		{"range network address", dhcpDoc("<range start='10.0.0.0' end='10.0.0.9'/>"), ErrInternal,
			"start of range 10.0.0.0 - 10.0.0.9 in network 10.0.0.1/24 is the network address"},
		{"range broadcast address", dhcpDoc("<range start='10.0.0.2' end='10.0.0.255'/>"), ErrInternal,
			"end of range 10.0.0.2 - 10.0.0.255 in network 10.0.0.1/24 is the broadcast address"},
		{"range reversed", dhcpDoc("<range start='10.0.0.9' end='10.0.0.2'/>"), ErrInternal, "range 10.0.0.9 - 10.0.0.2 is reversed "},
		{"range too large", netDoc("<ip address='10.0.0.1' prefix='8'><dhcp><range start='10.0.0.2' end='10.1.0.2'/></dhcp></ip>"), ErrInternal,
			"range 10.0.0.2 - 10.1.0.2 is too large (> 65535)"},
		{"range v6 reversed", netDoc("<ip family='ipv6' address='fd00::1' prefix='64'><dhcp><range start='fd00::9' end='fd00::2'/></dhcp></ip>"),
			ErrInternal, "range fd00::9 - fd00::2 start larger than end"},
		{"range bad netmask", netDoc("<ip address='10.0.0.1' netmask='255.0.255.0'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip>"),
			ErrInternal, "bad prefix -1 for network 10.0.0.1 when checking range 10.0.0.2 - 10.0.0.9"},
		{"lease too short", dhcpDoc("<range start='10.0.0.2' end='10.0.0.9'><lease expiry='100' unit='seconds'/></range>"),
			ErrConfigUnsupported, "The minimum lease time should be greater than 2 minutes"},
		{"lease unit", dhcpDoc("<range start='10.0.0.2' end='10.0.0.9'><lease expiry='100' unit='days'/></range>"),
			ErrXML, "Invalid value for attribute 'unit' in element 'lease': 'days'."},
		{"lease expiry", dhcpDoc("<range start='10.0.0.2' end='10.0.0.9'><lease expiry='-1'/></range>"),
			ErrXML, "Invalid value for attribute 'expiry' in element 'lease': '-1'. Expected non-negative integer value"},
		{"host bad mac", dhcpDoc("<host mac='52:54:00:zz:00:01' ip='10.0.0.5'/>"), ErrXML,
			"Cannot parse MAC address '52:54:00:zz:00:01' in network 'n'"},
		{"host multicast mac", dhcpDoc("<host mac='03:54:00:00:00:01' ip='10.0.0.5'/>"), ErrXML,
			"expected unicast mac address, found multicast '03:54:00:00:00:01' in network 'n'"},
		{"host mac in ipv6", netDoc("<ip family='ipv6' address='fd00::1' prefix='64'><dhcp><host mac='52:54:00:00:00:01' name='a' ip='fd00::5'/></dhcp></ip>"),
			ErrXML, "Invalid to specify MAC address '52:54:00:00:00:01' in network 'n' IPv6 static host definition"},
		{"host id", netDoc("<ip family='ipv6' address='fd00::1' prefix='64'><dhcp><host id='0:1:x' ip='fd00::5'/></dhcp></ip>"),
			ErrXML, "Invalid character 'x' in id '0:1:x' of network 'n'"},
		{"host name", dhcpDoc("<host name='-a' ip='10.0.0.5'/>"), ErrXML, "Cannot use host name '-a' in network 'n'"},
		{"host bad ip", dhcpDoc("<host name='a' ip='10.0.5'/>"), ErrXML, "Invalid IP address in static host definition for network 'n'"},
		{"host without mac or name", dhcpDoc("<host ip='10.0.0.5'/>"), ErrXML,
			"Static host definition in IPv4 network 'n' must have mac or name attribute"},
		{"ipv6 host without id or name", netDoc("<ip family='ipv6' address='fd00::1' prefix='64'><dhcp><host ip='fd00::5'/></dhcp></ip>"),
			ErrXML, "Static host definition in IPv6 network 'n' must have id or name attribute"},
		{"host without ip", dhcpDoc("<host name='a'/>"), ErrXML, "Missing IP address in static host definition for network 'n'"},
		{"host outside subnet", dhcpDoc("<host name='a' ip='10.0.1.5'/>"), ErrConfigUnsupported,
			"static host address '10.0.1.5' is not within network 'n' subnet 10.0.0.0/24"},
		{"host same mac", dhcpDoc("<host mac='52:54:00:00:00:01' ip='10.0.0.5'/><host mac='52:54:00:00:00:01' name='b' ip='10.0.0.6'/>"),
			ErrConfigUnsupported, `there is an existing dhcp host entry in network 'n' that matches "<host mac='52:54:00:00:00:01' name='b' ip='10.0.0.6'/>"`},
		{"host same mac other case", dhcpDoc("<host mac='52:54:00:00:00:aa' ip='10.0.0.5'/><host mac='52:54:00:00:00:AA' ip='10.0.0.6'/>"),
			ErrConfigUnsupported, `there is an existing dhcp host entry in network 'n' that matches "<host mac='52:54:00:00:00:AA' name='' ip='10.0.0.6'/>"`},
		{"host same name", dhcpDoc("<host name='a' ip='10.0.0.5'/><host name='a' ip='10.0.0.6'/>"),
			ErrConfigUnsupported, `there is an existing dhcp host entry in network 'n' that matches "<host mac='' name='a' ip='10.0.0.6'/>"`},
		{"host same ip", dhcpDoc("<host name='a' ip='10.0.0.5'/><host name='b' ip='10.0.0.5'/>"),
			ErrConfigUnsupported, `there is an existing dhcp host entry in network 'n' that matches "<host mac='' name='b' ip='10.0.0.5'/>"`},
		{"bootp without file", dhcpDoc("<range start='10.0.0.2' end='10.0.0.9'/><bootp server='10.0.0.2'/>"), ErrXML,
			"Missing required attribute 'file' in element 'bootp'"},
		{"two ipv4 dhcp", netDoc("<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip>" +
			"<ip address='10.1.0.1' prefix='24'><dhcp><range start='10.1.0.2' end='10.1.0.9'/></dhcp></ip>"), ErrConfigUnsupported,
			"Multiple IPv4 dhcp sections found -- dhcp is supported only for a single IPv4 address on each network"},

		// routes
		{"route without address", natDoc("<route gateway='10.0.0.2'/>"), ErrXML, "n: Missing required address attribute in route definition"},
		{"route without gateway", natDoc("<route address='10.1.0.0' prefix='16'/>"), ErrXML,
			"n: Missing required gateway attribute in route definition"},
		{"route bad address", natDoc("<route address='10.1.0' gateway='10.0.0.2'/>"), ErrXML,
			"n: Bad network address '10.1.0' in route definition"},
		{"route bad gateway", natDoc("<route address='10.1.0.0' gateway='x'/>"), ErrXML, "n: Bad gateway address 'x' in route definition"},
		{"route prefix", natDoc("<route address='10.1.0.0' prefix='x' gateway='10.0.0.2'/>"), ErrXML,
			"Invalid value for attribute 'prefix' in element 'route': 'x'. Expected non-negative integer value"},
		{"route metric", natDoc("<route address='10.1.0.0' prefix='16' gateway='10.0.0.2' metric='0'/>"), ErrXML,
			"Invalid value for attribute 'metric' in element 'route': Zero is not permitted"},
		{"route without prefix", natDoc("<route address='10.1.0.0' gateway='10.0.0.2'/>"), ErrXML,
			"n: Address '10.1.0.0' in route definition is not a network address"},
		{"route v6 gateway", natDoc("<route address='10.1.0.0' prefix='16' gateway='fd00::1'/>"), ErrXML,
			"n: No family specified for non-IPv4 gateway '10.1.0.0' in route definition"},
		{"route v6 without family", natDoc("<route address='fd01::' prefix='64' gateway='10.0.0.2'/>"), ErrXML,
			"n: No family specified for non-IPv4 address 'fd01::' in route definition"},
		{"route ipv6 family", natDoc("<route family='ipv6' address='10.1.0.0' prefix='16' gateway='10.0.0.2'/>"), ErrXML,
			"n: ipv6 family specified for non-IPv6 address '10.1.0.0' in route definition"},
		{"route prefix and netmask", natDoc("<route address='10.1.0.0' netmask='255.255.0.0' prefix='16' gateway='10.0.0.2'/>"), ErrXML,
			"n: Route definition cannot have both a prefix and a netmask"},
		{"route prefix range", natDoc("<route address='10.1.0.0' prefix='40' gateway='10.0.0.2'/>"), ErrXML,
			"n: Invalid prefix 40 specified in route definition, must be 0 - 32"},
		{"route not a network", natDoc("<route address='10.1.0.1' prefix='16' gateway='10.0.0.2'/>"), ErrXML,
			"n: Address '10.1.0.1' in route definition is not a network address"},
		{"route gateway unreachable", natDoc("<route address='10.1.0.0' prefix='16' gateway='10.9.0.2'/>"), ErrConfigUnsupported,
			"unreachable static route gateway '10.9.0.2' specified for network 'n'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseNetwork([]byte(tc.doc), netOpts())
			wantError(t, err, tc.kind, tc.msg)
		})
	}
}

func TestParseNetworkValidate(t *testing.T) {
	doc := natDoc("<foo/><bridge name='virbr7' colour='blue'/>")
	n, warnings, err := ParseNetwork([]byte(doc), netOpts())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"element 'foo' is not allowed in /network", "attribute 'colour' is not allowed in /network/bridge"}
	if !slices.Equal(warnings, want) {
		t.Fatalf("warnings = %q, want %q", warnings, want)
	}
	if n.Def.Bridge.Name != "virbr7" {
		t.Fatalf("bridge = %+v", n.Def.Bridge)
	}
	_, _, err = ParseNetwork([]byte(doc), NetworkParseOptions{Validate: true})
	wantError(t, err, ErrSchema, "XML document failed to validate against schema: "+strings.Join(want, "; "))

	// libvirt reads only the first of single elements.
	n, warnings, err = ParseNetwork([]byte(natDoc("<bridge name='first'/><bridge name='second'/>")), netOpts())
	if err != nil || n.Def.Bridge.Name != "first" || len(warnings) != 1 {
		t.Fatalf("repeated bridge: %v %+v %q", err, n.Def.Bridge, warnings)
	}
	// What libvirt drops without a word is not reported.
	doc = strings.Replace(natDoc("<dns><forwarder domain='x'/></dns>"), "<network>", "<network ipv6='no' connections='3'>", 1)
	doc = strings.Replace(doc, "<forward mode='nat'/>", "<forward mode='nat' managed='yes'/>", 1)
	if _, warnings, err := ParseNetwork([]byte(doc), NetworkParseOptions{Validate: true}); err != nil || len(warnings) > 0 {
		t.Fatalf("silently dropped parts: %v %q", err, warnings)
	}
}

func TestParseNetworkBridgeName(t *testing.T) {
	tests := []struct {
		bridge string
		used   []string
		want   string
	}{
		{"", nil, "virbr0"},
		{"", []string{"virbr0", "virbr1", "virbr3"}, "virbr2"},
		{"<bridge stp='off'/>", []string{"virbr0"}, "virbr1"},
		{"<bridge name='lab%d'/>", []string{"lab0"}, "lab1"},
		{"<bridge name='lab%d%d'/>", nil, "virbr0"},
		{"<bridge name='mine'/>", []string{"mine"}, "mine"},
	}
	for _, tc := range tests {
		n, _, err := ParseNetwork([]byte(natDoc(tc.bridge)), NetworkParseOptions{UsedBridges: tc.used})
		if err != nil {
			t.Fatalf("%s: %v", tc.bridge, err)
		}
		if n.Def.Bridge.Name != tc.want {
			t.Errorf("%q with %q: bridge %q, want %q", tc.bridge, tc.used, n.Def.Bridge.Name, tc.want)
		}
	}
	var all []string
	for i := 0; i <= maxBridgeID; i++ {
		all = append(all, fmt.Sprintf("virbr%d", i))
	}
	_, _, err := ParseNetwork([]byte(natDoc("")), NetworkParseOptions{UsedBridges: all})
	wantError(t, err, ErrInternal, "Bridge generation exceeded max id 256")
	if got := NextBridgeName(all); got != "" {
		t.Errorf("NextBridgeName of all = %q", got)
	}
	if got := NextBridgeName([]string{"virbr0", "eth0"}); got != "virbr1" {
		t.Errorf("NextBridgeName = %q", got)
	}
}

func TestParseNetworkGenerated(t *testing.T) {
	n1, _, err := ParseNetwork([]byte(natDoc("")), NetworkParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n2, _, _ := ParseNetwork([]byte(natDoc("")), NetworkParseOptions{})
	if n1.Def.UUID == n2.Def.UUID || n1.Def.MAC.Address == n2.Def.MAC.Address {
		t.Fatalf("generated values repeat: %s %s", n1.Def.UUID, n1.Def.MAC.Address)
	}
	if !strings.HasPrefix(n1.Def.MAC.Address, "52:54:00:") {
		t.Fatalf("bridge MAC %s", n1.Def.MAC.Address)
	}
	if _, ok := parseUUID(n1.Def.UUID); !ok {
		t.Fatalf("UUID %s", n1.Def.UUID)
	}
	// A network onto a host bridge gets no MAC address.
	br, _, err := ParseNetwork([]byte(netDoc("<forward mode='bridge'/><bridge name='br0'/>")), NetworkParseOptions{})
	if err != nil || br.Def.MAC != nil {
		t.Fatalf("bridge mode: %v %+v", err, br.Def.MAC)
	}
}

func TestSubnets(t *testing.T) {
	n, _, err := ParseNetwork([]byte(netDoc(`<ip address='192.168.122.1' netmask='255.255.255.0'/>
<ip address='10.1.2.3'/><ip address='172.16.5.1'/><ip address='192.168.7.1' prefix='23'/>
<ip family='ipv6' address='2001:db8::1'/><ip family='ipv6' address='fd00:1::1' prefix='48'/>`)), netOpts())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range Subnets(n) {
		got = append(got, p.String())
	}
	want := []string{"192.168.122.0/24", "10.0.0.0/8", "172.16.0.0/16", "192.168.6.0/23", "2001:db8::/64", "fd00:1::/48"}
	if !slices.Equal(got, want) {
		t.Fatalf("Subnets = %q, want %q", got, want)
	}
	if Subnets(&Network{}) != nil {
		t.Fatal("Subnets of an empty network")
	}
}

func TestDefaultNetworkXML(t *testing.T) {
	tests := []struct {
		subnet string
		ip     string
		range_ string
	}{
		{"", "<ip address='192.168.122.1' netmask='255.255.255.0'>", "<range start='192.168.122.2' end='192.168.122.254'/>"},
		{"10.55.3.7/24", "<ip address='10.55.3.1' netmask='255.255.255.0'>", "<range start='10.55.3.2' end='10.55.3.254'/>"},
		{"172.20.0.0/16", "<ip address='172.20.0.1' netmask='255.255.0.0'>", "<range start='172.20.0.2' end='172.20.255.254'/>"},
		{"fd00::/64", "<ip address='192.168.122.1' netmask='255.255.255.0'>", "<range start='192.168.122.2' end='192.168.122.254'/>"},
	}
	for _, tc := range tests {
		var p netip.Prefix
		if tc.subnet != "" {
			p = netip.MustParsePrefix(tc.subnet)
		}
		doc := DefaultNetworkXML(p)
		if !strings.Contains(doc, tc.ip) || !strings.Contains(doc, tc.range_) {
			t.Errorf("DefaultNetworkXML(%s):\n%s", tc.subnet, doc)
		}
		n, warnings, err := ParseNetwork([]byte(doc), NetworkParseOptions{Validate: true})
		if err != nil || len(warnings) > 0 {
			t.Errorf("DefaultNetworkXML(%s) does not define: %v %q", tc.subnet, err, warnings)
			continue
		}
		if n.Def.Name != "default" || forwardMode(n.Def) != "nat" || n.Def.Bridge.Name != "virbr0" {
			t.Errorf("DefaultNetworkXML(%s): %+v", tc.subnet, n.Def)
		}
	}
}

func TestNetworkRoutePrefix(t *testing.T) {
	n, _, err := ParseNetwork([]byte(natDoc("<route address='0.0.0.0' prefix='0' gateway='10.0.0.2'/><route address='0.0.0.0' gateway='10.0.0.3'/>")), netOpts())
	if err != nil {
		t.Fatal(err)
	}
	if !n.RouteHasPrefix(n.Def.Routes[0]) || n.RouteHasPrefix(n.Def.Routes[1]) {
		t.Fatal("RouteHasPrefix")
	}
	c := n.Clone()
	c.SetRoutePrefix(&c.Def.Routes[1], 0)
	if !c.RouteHasPrefix(c.Def.Routes[1]) || n.RouteHasPrefix(n.Def.Routes[1]) {
		t.Fatal("Clone shares the route table")
	}
	out, _ := FormatNetwork(c, NetworkFormatOptions{Inactive: true})
	if !strings.Contains(out, "<route address='0.0.0.0' prefix='0' gateway='10.0.0.3'/>") {
		t.Fatalf("formatted:\n%s", out)
	}
}

func TestFormatNetworkNil(t *testing.T) {
	_, err := FormatNetwork(nil, NetworkFormatOptions{})
	wantError(t, err, ErrInternal, "no network definition to format")
}
