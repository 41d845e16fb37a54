package driver

import (
	"net/netip"
	"testing"
	"time"

	"github.com/nsvirt/nsvirt/netns/nat"
	"github.com/nsvirt/nsvirt/xmlconf"
)

func parseNet(t *testing.T, doc string) *xmlconf.Network {
	t.Helper()
	n, _, err := xmlconf.ParseNetwork([]byte(doc), xmlconf.NetworkParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDnsmasqConfigTranslation(t *testing.T) {
	def := parseNet(t, xmlconf.DefaultNetworkXML(netip.Prefix{}))
	cfg, needed, err := dnsmasqConfig(def)
	if err != nil || !needed {
		t.Fatalf("default network: needed=%v err=%v", needed, err)
	}
	r := cfg.Ranges[0]
	if cfg.Bridge != "virbr0" || !cfg.DNS || cfg.NoGateway || len(cfg.Ranges) != 1 ||
		r.Start.String() != "192.168.122.2" || r.End.String() != "192.168.122.254" || r.Prefix != 24 {
		t.Errorf("default network: %+v", cfg)
	}

	isolated := parseNet(t, `<network><name>iso</name><domain name='iso.test' localOnly='yes'/>
	  <dns><host ip='10.1.0.9'><hostname>db</hostname></host><forwarder domain='corp.test' addr='10.9.9.9'/></dns>
	  <ip address='10.1.0.1' prefix='24'><dhcp><range start='10.1.0.10' end='10.1.0.20'><lease expiry='2' unit='hours'/></range>
	  <host mac='52:54:00:00:00:01' name='web' ip='10.1.0.5'/></dhcp></ip></network>`)
	cfg, needed, err = dnsmasqConfig(isolated)
	if err != nil || !needed {
		t.Fatalf("isolated network: needed=%v err=%v", needed, err)
	}
	if !cfg.NoGateway || !cfg.NoUpstream || cfg.Domain != "iso.test" || !cfg.LocalOnly || cfg.Ranges[0].Lease != 2*time.Hour ||
		len(cfg.Hosts) != 1 || cfg.Hosts[0].Name != "web" || len(cfg.DNSHosts) != 1 || len(cfg.Forwarders) != 1 {
		t.Errorf("isolated network: %+v", cfg)
	}

	quiet := parseNet(t, `<network><name>q</name><dns enable='no'/><ip address='10.2.0.1' prefix='24'/></network>`)
	if _, needed, err := dnsmasqConfig(quiet); err != nil || needed {
		t.Errorf("DNS off and no DHCP: needed=%v err=%v", needed, err)
	}
	bare := parseNet(t, `<network><name>b</name></network>`)
	if _, needed, _ := dnsmasqConfig(bare); needed {
		t.Error("a network without addresses needs dnsmasq")
	}
}

func TestNATTranslation(t *testing.T) {
	def := parseNet(t, `<network><name>r</name><forward mode='route' dev='eth9'/>
	  <ip address='10.3.0.1' prefix='24'/><ip family='ipv6' address='fd00:3::1' prefix='64'/></network>`)
	n, err := natNetwork(def)
	if err != nil {
		t.Fatal(err)
	}
	if n.Mode != nat.Route || n.OutDev != "eth9" || len(n.Subnets) != 2 || n.Subnets[0].String() != "10.3.0.0/24" {
		t.Errorf("route network: %+v", n)
	}
	if got := bridgeAddrs(def); len(got) != 2 || got[0].String() != "10.3.0.1/24" || got[1].String() != "fd00:3::1/64" {
		t.Errorf("bridge addresses %v", got)
	}
	keys := nat.ForwardSysctls(n)
	if len(keys) != 2 {
		t.Errorf("forwarding sysctls %v", keys)
	}
	iso, _ := natNetwork(parseNet(t, `<network><name>i</name><ip address='10.4.0.1' prefix='24'/></network>`))
	if iso.Mode != nat.Isolated || len(nat.ForwardSysctls(iso)) != 0 {
		t.Errorf("isolated network: %+v", iso)
	}
}
