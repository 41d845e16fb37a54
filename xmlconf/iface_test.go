package xmlconf

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"
)

// parseIface reads an <interface> for the tests.
func parseIface(t *testing.T, doc string) *libvirtxml.DomainInterface {
	t.Helper()
	iface, err := ParseDeviceInterface([]byte(doc))
	if err != nil {
		t.Fatalf("ParseDeviceInterface(%s): %v", doc, err)
	}
	return iface
}

func TestInterfaceSpecOf(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want InterfaceSpec
	}{
		{"bridge", `<interface type='bridge'>
  <mac address='52:54:00:77:00:0A'/>
  <source bridge='br-anchor'/>
  <ip address='10.77.0.2' family='ipv4' prefix='24'/>
  <ip address='fd00::2'/>
  <route family='ipv4' address='0.0.0.0' prefix='0' gateway='10.77.0.1'/>
  <route address='10.80.0.0' netmask='255.255.0.0' gateway='10.77.0.1' metric='5'/>
  <target dev='veth-web'/>
  <guest dev='eth0'/>
  <mtu size='1400'/>
  <link state='up'/>
</interface>`, InterfaceSpec{
			Type: IfaceBridge, Bridge: "br-anchor", TargetDev: "veth-web", GuestDev: "eth0",
			MAC: "52:54:00:77:00:0a", MTU: 1400, LinkState: "up",
			IPs: []InterfaceIP{
				{Prefix: netip.MustParsePrefix("10.77.0.2/24")},
				{Prefix: netip.MustParsePrefix("fd00::2/64")},
			},
			Routes: []InterfaceRoute{
				{Destination: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.77.0.1")},
				{Destination: netip.MustParsePrefix("10.80.0.0/16"), Gateway: netip.MustParseAddr("10.77.0.1"), Metric: 5},
			},
		}},
		{"network", `<interface type='network'><source network='default' portgroup='web'/></interface>`,
			InterfaceSpec{Type: IfaceNetwork, Network: "default", PortGroup: "web"}},
		{"openvswitch", `<interface type='bridge'><source bridge='ovs0'/><virtualport type='openvswitch'/></interface>`,
			InterfaceSpec{Type: IfaceBridge, Bridge: "ovs0", VirtualPort: "openvswitch"}},
		{"ethernet", `<interface type='ethernet'>
  <source><ip address='192.168.9.1' prefix='30' peer='192.168.9.2'/><route address='10.0.0.0' prefix='8' gateway='192.168.9.2'/></source>
  <ip address='192.168.9.2' prefix='30' peer='192.168.9.1'/>
</interface>`, InterfaceSpec{
			Type:       IfaceEthernet,
			IPs:        []InterfaceIP{{Prefix: netip.MustParsePrefix("192.168.9.2/30"), Peer: netip.MustParseAddr("192.168.9.1")}},
			HostIPs:    []InterfaceIP{{Prefix: netip.MustParsePrefix("192.168.9.1/30"), Peer: netip.MustParseAddr("192.168.9.2")}},
			HostRoutes: []InterfaceRoute{{Destination: netip.MustParsePrefix("10.0.0.0/8"), Gateway: netip.MustParseAddr("192.168.9.2")}},
		}},
		{"direct", `<interface type='direct'><source dev='eth0'/></interface>`,
			InterfaceSpec{Type: IfaceDirect, SourceDev: "eth0", Mode: "vepa"}},
		{"direct bridge mode", `<interface type='direct'><source dev='eth0' mode='bridge'/></interface>`,
			InterfaceSpec{Type: IfaceDirect, SourceDev: "eth0", Mode: "bridge"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InterfaceSpecOf(parseIface(t, tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("InterfaceSpecOf:\n%+v\nwant:\n%+v", got, tc.want)
			}
		})
	}
}

func TestInterfaceSpecErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		kind ErrorKind
		msg  string
	}{
		{"user", `<interface type='user'/>`, ErrConfigUnsupported, "Unsupported network type user"},
		{"vhostuser", `<interface type='vhostuser'><source type='unix' path='/tmp/s' mode='server'/></interface>`,
			ErrConfigUnsupported, "Unsupported network type vhostuser"},
		{"server", `<interface type='server'><source address='192.168.0.1' port='5558'/></interface>`,
			ErrConfigUnsupported, "Unsupported network type server"},
		{"hostdev interface", `<interface type='hostdev'><source><address type='pci' domain='0' bus='0' slot='7' function='0'/></source></interface>`,
			ErrConfigUnsupported, "Unsupported network type hostdev"},
		{"mcast", `<interface type='mcast'><source address='230.0.0.1' port='5558'/></interface>`,
			ErrConfigUnsupported, "Unsupported network type mcast"},
		{"bridge without source", `<interface type='bridge'/>`, ErrXML,
			"No <source> 'bridge' attribute specified with <interface type='bridge'/>"},
		{"network without source", `<interface type='network'><source portgroup='x'/></interface>`, ErrXML,
			"No <source> 'network' attribute specified with <interface type='network'/>"},
		{"direct without source", `<interface type='direct'/>`, ErrXML,
			"No <source> 'dev' attribute specified with <interface type='direct'/>"},
		{"script", `<interface type='ethernet'><script path='/etc/qemu-ifup'/></interface>`, ErrConfigUnsupported,
			"scripts are not supported on LXC network interfaces"},
		{"direct bandwidth", `<interface type='direct'><source dev='eth0'/><bandwidth><inbound average='1000'/></bandwidth></interface>`,
			ErrConfigUnsupported, "Unable to set network bandwidth on direct interfaces"},
		{"direct virtualport", `<interface type='direct'><source dev='eth0'/><virtualport type='802.1Qbh'/></interface>`,
			ErrConfigUnsupported, "Unable to set port profile on direct interfaces"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := InterfaceSpecOf(parseIface(t, tc.doc))
			wantError(t, err, tc.kind, tc.msg)
		})
	}
	// Values ParseDeviceInterface would refuse, in a model built in code.
	model := []struct {
		name  string
		iface libvirtxml.DomainInterface
		kind  ErrorKind
		msg   string
	}{
		{"invalid address", bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.IP = []libvirtxml.DomainInterfaceIP{{Address: "10.0.0.256"}}
		}), ErrXML, "Invalid address '10.0.0.256' in <ip>"},
		{"address family", bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.IP = []libvirtxml.DomainInterfaceIP{{Address: "fd00::1", Family: "ipv4"}}
		}), ErrXML, "Invalid address 'fd00::1' in <ip>"},
		{"prefix", bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.IP = []libvirtxml.DomainInterfaceIP{{Address: "10.0.0.1", Prefix: 33}}
		}), ErrXML, "Invalid prefix value '33' in <ip>"},
		{"class E address", bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.IP = []libvirtxml.DomainInterfaceIP{{Address: "240.0.0.1"}}
		}), ErrInternal, "Failed to determine prefix for IP address '240.0.0.1'"},
		{"peer", bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.IP = []libvirtxml.DomainInterfaceIP{{Address: "10.0.0.1", Peer: "fd00::1"}}
		}), ErrInvalidArg, "Invalid peer 'fd00::1' in <ip>"},
		{"route gateway", bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.Route = []libvirtxml.DomainInterfaceRoute{{Address: "0.0.0.0", Gateway: "10.0.0"}}
		}), ErrXML, "Domain interface: Bad gateway address '10.0.0' in route definition"},
		{"route without gateway", bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.Route = []libvirtxml.DomainInterfaceRoute{{Address: "0.0.0.0"}}
		}), ErrXML, "Domain interface: Missing required gateway attribute in route definition"},
		{"route families", bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.Route = []libvirtxml.DomainInterfaceRoute{{Address: "::", Gateway: "10.0.0.1"}}
		}), ErrXML, "Domain interface: Invalid gateway '10.0.0.1' for network address '::' in route definition"},
		{"bad mac", bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.MAC = &libvirtxml.DomainInterfaceMAC{Address: "52:54:00:00:01"}
		}), ErrInternal, "unable to parse mac address '52:54:00:00:01'"},
		{"multicast mac", bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.MAC = &libvirtxml.DomainInterfaceMAC{Address: "01:54:00:00:00:01"}
		}), ErrXML, "expected unicast mac address, found multicast '01:54:00:00:00:01'"},
		{"no type", libvirtxml.DomainInterface{}, ErrXML, "missing interface type"},
	}
	for _, tc := range model {
		t.Run(tc.name, func(t *testing.T) {
			_, err := InterfaceSpecOf(&tc.iface)
			wantError(t, err, tc.kind, tc.msg)
		})
	}
}

// bridgeIface returns a bridge interface on br0 changed by edit.
func bridgeIface(edit func(*libvirtxml.DomainInterface)) libvirtxml.DomainInterface {
	iface := libvirtxml.DomainInterface{Source: &libvirtxml.DomainInterfaceSource{
		Bridge: &libvirtxml.DomainInterfaceSourceBridge{Bridge: "br0"},
	}}
	edit(&iface)
	return iface
}

func TestDomainInterfaceSpecs(t *testing.T) {
	doc := edit("<console type='pty'/>", `<console type='pty'/>
    <interface type='bridge'>
      <mac address='52:54:00:00:00:01'/>
      <source bridge='br0'/>
      <ip address='10.1.0.2' prefix='16'/>
      <route address='10.9.0.0' prefix='0' gateway='10.1.0.1'/>
    </interface>
    <hostdev mode='capabilities' type='net'>
      <source><interface>eth7</interface></source>
      <ip address='192.168.3.4' prefix='24'/>
      <route address='0.0.0.0' prefix='0' gateway='192.168.3.1'/>
    </hostdev>`)
	d, _, err := ParseDomain([]byte(doc), conformanceOpts)
	if err != nil {
		t.Fatal(err)
	}
	specs, err := DomainInterfaceSpecs(d)
	if err != nil {
		t.Fatal(err)
	}
	want := []InterfaceSpec{
		{Type: IfaceBridge, Bridge: "br0", MAC: "52:54:00:00:00:01",
			IPs:    []InterfaceIP{{Prefix: netip.MustParsePrefix("10.1.0.2/16")}},
			Routes: []InterfaceRoute{{Destination: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.1.0.1")}}},
		{Type: IfaceHostdevNet, SourceDev: "eth7",
			IPs:    []InterfaceIP{{Prefix: netip.MustParsePrefix("192.168.3.4/24")}},
			Routes: []InterfaceRoute{{Destination: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.168.3.1")}}},
	}
	if !reflect.DeepEqual(specs, want) {
		t.Fatalf("DomainInterfaceSpecs:\n%+v\nwant:\n%+v", specs, want)
	}
	if specs, err := DomainInterfaceSpecs(&Domain{}); specs != nil || err != nil {
		t.Fatalf("empty domain: %v %v", specs, err)
	}
}

func TestValidateInterfaces(t *testing.T) {
	def := &libvirtxml.Domain{Devices: &libvirtxml.DomainDeviceList{Interfaces: []libvirtxml.DomainInterface{
		bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.MAC = &libvirtxml.DomainInterfaceMAC{Address: "52:54:00:00:00:aa"}
			i.Guest = &libvirtxml.DomainInterfaceGuest{Dev: "eth0"}
		}),
		bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.MAC = &libvirtxml.DomainInterfaceMAC{Address: "52:54:00:00:00:AB"}
			i.Guest = &libvirtxml.DomainInterfaceGuest{Dev: "eth1"}
		}),
	}}}
	if err := ValidateInterfaces(def); err != nil {
		t.Fatal(err)
	}
	def.Devices.Interfaces[1].MAC.Address = "52:54:00:00:00:AA"
	wantError(t, ValidateInterfaces(def), ErrInvalidArg, "network device with mac 52:54:00:00:00:aa already exists")
	def.Devices.Interfaces[1].MAC.Address = "52:54:00:00:00:ab"
	def.Devices.Interfaces[1].Guest.Dev = "eth0"
	wantError(t, ValidateInterfaces(def), ErrConfigUnsupported, "network device with guest name eth0 already exists")
	def.Devices.Interfaces[1].Source = &libvirtxml.DomainInterfaceSource{User: &libvirtxml.DomainInterfaceSourceUser{}}
	wantError(t, ValidateInterfaces(def), ErrConfigUnsupported, "Unsupported network type user")

	attach := parseIface(t, "<interface type='bridge'><mac address='52:54:00:00:00:AA'/><source bridge='br1'/></interface>")
	wantError(t, CheckInterfaceAttach(def, attach), ErrInvalidArg, "network device with mac 52:54:00:00:00:aa already exists")
	attach.MAC.Address = "52:54:00:00:00:cc"
	if err := CheckInterfaceAttach(def, attach); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateMAC(t *testing.T) {
	if got := GenerateMAC(bytes.NewReader([]byte{1, 0xab, 0xff})); got != "52:54:00:01:ab:ff" {
		t.Fatalf("GenerateMAC = %s", got)
	}
	a, b := GenerateMAC(nil), GenerateMAC(bytes.NewReader(nil)) // crypto/rand
	if !strings.HasPrefix(a, "52:54:00:") || !strings.HasPrefix(b, "52:54:00:") || a == b {
		t.Fatalf("GenerateMAC from crypto/rand: %s %s", a, b)
	}
}

func TestFillInterfaceDefaults(t *testing.T) {
	def := &libvirtxml.Domain{Devices: &libvirtxml.DomainDeviceList{Interfaces: []libvirtxml.DomainInterface{
		bridgeIface(func(i *libvirtxml.DomainInterface) {}),
		bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.MAC = &libvirtxml.DomainInterfaceMAC{Address: "52:54:00:01:02:03"}
		}),
		bridgeIface(func(i *libvirtxml.DomainInterface) { i.MAC = &libvirtxml.DomainInterfaceMAC{} }),
	}}}
	// The second generated address would repeat the one in use.
	FillInterfaceDefaults(def, bytes.NewReader([]byte{0xaa, 0xbb, 0xcc, 1, 2, 3, 4, 5, 6}))
	var got []string
	for _, i := range def.Devices.Interfaces {
		got = append(got, i.MAC.Address)
	}
	want := []string{"52:54:00:aa:bb:cc", "52:54:00:01:02:03", "52:54:00:04:05:06"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("MACs = %q, want %q", got, want)
	}
	FillInterfaceDefaults(nil, nil)
	FillInterfaceDefaults(&libvirtxml.Domain{}, nil)
}

func TestParseDeviceInterface(t *testing.T) {
	iface := parseIface(t, `<?xml version='1.0'?>
<interface type='bridge'>
  <source bridge='br0'/>
  <target dev='vnet3'/>
  <unknown/>
</interface>`)
	if iface.MAC != nil {
		t.Fatalf("MAC generated: %+v", iface.MAC)
	}
	if iface.Target != nil {
		t.Fatalf("generated target name kept: %+v", iface.Target)
	}
	iface = parseIface(t, "<interface type='network'><mac address='52:54:00:AB:00:01'/><source network='default'/></interface>")
	if iface.MAC.Address != "52:54:00:ab:00:01" {
		t.Fatalf("MAC = %s", iface.MAC.Address)
	}

	errs := []struct {
		name, doc string
		kind      ErrorKind
		msg       string
	}{
		{"disk", "<disk type='block'><source dev='/dev/sda'/><target dev='sda'/></disk>", ErrConfigUnsupported,
			"unsupported device type 'disk': only <interface> is handled here"},
		{"not well-formed", "<interface type='bridge'>", ErrXMLDetail,
			"(device_definition):1: Premature end of data in tag interface line 1\n<interface type='bridge'>\n-------------------------^"},
		{"invalid type", "<interface type='wire'/>", ErrXML, "Invalid value for attribute 'type' in element 'interface': 'wire'."},
		{"invalid address", "<interface type='bridge'><source bridge='br0'/><ip address='10.0.0.256'/></interface>", ErrXML,
			"Invalid address '10.0.0.256' in <ip>"},
		{"multicast mac", "<interface type='bridge'><mac address='01:00:5e:00:00:01'/><source bridge='br0'/></interface>", ErrXML,
			"expected unicast mac address, found multicast '01:00:5e:00:00:01'"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDeviceInterface([]byte(tc.doc))
			wantError(t, err, tc.kind, tc.msg)
		})
	}
}

func TestFormatDeviceInterface(t *testing.T) {
	doc := `<interface type='bridge'>
  <mac address='52:54:00:77:00:02'/>
  <source bridge='br-anchor'/>
  <ip address='10.77.0.2' family='ipv4' prefix='24'/>
  <route family='ipv4' address='10.0.0.0' prefix='8' gateway='10.77.0.1'/>
  <target dev='veth0'/>
  <guest dev='eth0'/>
  <mtu size='1400'/>
</interface>
`
	out, err := FormatDeviceInterface(parseIface(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	if out != doc {
		t.Fatalf("FormatDeviceInterface:\n%s\nwant:\n%s", out, doc)
	}
	if _, err := FormatDeviceInterface(nil); err == nil {
		t.Fatal("formatted nil")
	}
}

func TestFindInterface(t *testing.T) {
	def := &libvirtxml.Domain{Devices: &libvirtxml.DomainDeviceList{Interfaces: []libvirtxml.DomainInterface{
		bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.MAC = &libvirtxml.DomainInterfaceMAC{Address: "52:54:00:00:00:01"}
		}),
		bridgeIface(func(i *libvirtxml.DomainInterface) {
			i.MAC = &libvirtxml.DomainInterfaceMAC{Address: "52:54:00:00:00:02"}
		}),
		{MAC: &libvirtxml.DomainInterfaceMAC{Address: "52:54:00:00:00:03"}, Source: &libvirtxml.DomainInterfaceSource{
			Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: "default"},
		}, Alias: &libvirtxml.DomainAlias{Name: "ua-net"}},
	}}}
	tests := []struct {
		name string
		doc  string
		idx  int
		kind ErrorKind
		msg  string
	}{
		{"by MAC", "<interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='other'/></interface>", 1, 0, ""},
		{"by MAC other case", "<interface type='network'><mac address='52:54:00:00:00:03'/></interface>", 2, 0, ""},
		{"by MAC and alias", "<interface type='network'><mac address='52:54:00:00:00:03'/><alias name='ua-net'/></interface>", 2, 0, ""},
		{"alias differs", "<interface type='network'><mac address='52:54:00:00:00:03'/><alias name='ua-x'/></interface>", -1,
			ErrDeviceMissing, "no device matching MAC address 52:54:00:00:00:03 found on alias ua-x"},
		{"unknown MAC", "<interface type='bridge'><mac address='52:54:00:00:00:09'/><source bridge='br0'/></interface>", -1,
			ErrDeviceMissing, "no device matching MAC address 52:54:00:00:00:09 found"},
		{"by source", "<interface type='network'><source network='default'/></interface>", 2, 0, ""},
		{"by type", "<interface type='network'/>", 2, 0, ""},
		{"ambiguous source", "<interface type='bridge'><source bridge='br0'/></interface>", -1,
			ErrOperationFailed, "multiple matching devices found"},
		{"no match", "<interface type='direct'><source dev='eth0'/></interface>", -1,
			ErrDeviceMissing, "no device matching MAC address (<null>) found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := FindInterface(def, parseIface(t, tc.doc))
			if tc.msg != "" {
				wantError(t, err, tc.kind, tc.msg)
				return
			}
			if err != nil || idx != tc.idx {
				t.Fatalf("FindInterface = %d, %v; want %d", idx, err, tc.idx)
			}
		})
	}
	dup := &libvirtxml.Domain{Devices: &libvirtxml.DomainDeviceList{Interfaces: []libvirtxml.DomainInterface{
		def.Devices.Interfaces[0], def.Devices.Interfaces[0],
	}}}
	_, err := FindInterface(dup, parseIface(t, "<interface type='bridge'><mac address='52:54:00:00:00:01'/></interface>"))
	wantError(t, err, ErrOperationFailed, "multiple devices matching MAC address 52:54:00:00:00:01 found")
	_, err = FindInterface(nil, parseIface(t, "<interface type='bridge'/>"))
	wantError(t, err, ErrDeviceMissing, "no device matching MAC address (<null>) found")
}

func TestInterfaceType(t *testing.T) {
	for _, typ := range []string{"bridge", "network", "ethernet", "direct", "user", "vhostuser", "server", "client",
		"mcast", "internal", "udp", "vdpa", "null"} {
		doc := "<interface type='" + typ + "'/>"
		iface, err := ParseDeviceInterface([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if got := InterfaceType(iface); got != typ {
			t.Errorf("InterfaceType(%s) = %q", doc, got)
		}
	}
	if InterfaceType(&libvirtxml.DomainInterface{}) != "" {
		t.Error("InterfaceType of an empty interface")
	}
}
