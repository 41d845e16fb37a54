package dnsmasq

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

var addr = netip.MustParseAddr

// defaultNet is libvirt's "default" network with a static host, a domain
// and an IPv6 range.
func defaultNet() Config {
	return Config{
		Name:   "default",
		Bridge: "virbr0",
		Domain: "example.test",
		DNS:    true,
		Ranges: []Range{
			{Start: addr("192.168.122.2"), End: addr("192.168.122.254"), Prefix: 24},
			{Start: addr("fd00:122::100"), End: addr("fd00:122::1ff"), Prefix: 64, Lease: 90 * time.Minute},
		},
		Hosts: []Host{
			{MAC: mustMAC("52:54:00:aa:bb:cc"), IP: addr("192.168.122.10"), Name: "web"},
			{Name: "db", IP: addr("fd00:122::10")},
		},
		DNSHosts: []DNSHost{{IP: addr("192.168.122.1"), Names: []string{"gateway", "host"}}},
	}.WithPaths("/run/nsvirt/network/default")
}

const wantDefault = `##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
##OVERWRITTEN AND LOST.  It is written by nsvirt whenever network default starts.
##
## dnsmasq conf file created by nsvirt
strict-order
pid-file=/run/nsvirt/network/default/dnsmasq.pid
domain=example.test
expand-hosts
except-interface=lo
bind-dynamic
interface=virbr0
dhcp-range=192.168.122.2,192.168.122.254,255.255.255.0
dhcp-range=fd00:122::100,fd00:122::1ff,64,90m
enable-ra
dhcp-no-override
dhcp-authoritative
dhcp-lease-max=509
dhcp-leasefile=/run/nsvirt/network/default/dnsmasq.leases
dhcp-hostsfile=/run/nsvirt/network/default/dnsmasq.hostsfile
addn-hosts=/run/nsvirt/network/default/dnsmasq.addnhosts
`

const wantIsolatedNoDNS = `##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
##OVERWRITTEN AND LOST.  It is written by nsvirt whenever network "my net" starts.
##
## dnsmasq conf file created by nsvirt
strict-order
pid-file=/d/dnsmasq.pid
user=dnsmasq
port=0
except-interface=lo
bind-dynamic
interface=br-iso
listen-address=10.0.0.1
dhcp-range=10.0.0.0,static,255.255.255.0
dhcp-range=fd00:1::,ra-only,64
enable-ra
dhcp-option=3
ra-param=*,0,0
dhcp-no-override
dhcp-authoritative
dhcp-lease-max=1
dhcp-leasefile=/d/dnsmasq.leases
dhcp-hostsfile=/d/dnsmasq.hostsfile
addn-hosts=/d/dnsmasq.addnhosts
log-facility=/var/log/nsvirt/dnsmasq-iso.log
`

const wantForwarders = `##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
##OVERWRITTEN AND LOST.  It is written by nsvirt whenever network fwd starts.
##
## dnsmasq conf file created by nsvirt
strict-order
server=/corp.test/10.1.1.1
server=/local.test/
server=9.9.9.9
no-resolv
local=/lab.test/
domain=lab.test
expand-hosts
except-interface=lo
bind-dynamic
interface=br-f
`

func TestConf(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"default", defaultNet(), wantDefault},
		{"isolated_no_dns", Config{
			Name: "my net", Bridge: "br-iso", User: "dnsmasq", NoGateway: true,
			ListenAddrs: []netip.Addr{addr("10.0.0.1")},
			Subnets:     []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("fd00:1::/64"), netip.MustParsePrefix("10.9.0.0/24")},
			Hosts:       []Host{{MAC: mustMAC("52:54:00:00:00:01"), IP: addr("10.0.0.5")}},
			LogFile:     "/var/log/nsvirt/dnsmasq-iso.log",
		}.WithPaths("/d"), wantIsolatedNoDNS},
		{"forwarders_no_dhcp", Config{
			Name: "fwd", Bridge: "br-f", DNS: true, Domain: "lab.test", LocalOnly: true,
			Forwarders: []Forwarder{
				{Domain: "corp.test", Addr: addr("10.1.1.1")},
				{Domain: "local.test"},
				{Addr: addr("9.9.9.9")},
			},
		}, wantForwarders},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got := tc.c.Conf(); got != tc.want {
				t.Errorf("Conf:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestHostsFiles(t *testing.T) {
	c := defaultNet()
	c.Hosts = append(c.Hosts,
		Host{MAC: mustMAC("52:54:00:00:00:02"), IP: addr("fd00:122::11"), Name: "v6mac"},
		Host{MAC: mustMAC("52:54:00:00:00:03"), IP: addr("192.168.122.12")})
	want := "52:54:00:aa:bb:cc,192.168.122.10,web\n" +
		"db,[fd00:122::10]\n" +
		"52:54:00:00:00:02,[fd00:122::11],v6mac\n" +
		"52:54:00:00:00:03,192.168.122.12\n"
	if got := HostsFile(c.Hosts); got != want {
		t.Errorf("HostsFile:\n%s\nwant:\n%s", got, want)
	}
	if got := AddnHosts(c.DNSHosts); got != "192.168.122.1\tgateway host\n" {
		t.Errorf("AddnHosts = %q", got)
	}
	if HostsFile(nil) != "" || AddnHosts(nil) != "" {
		t.Error("empty hosts give non-empty files")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"no_bridge", func(c *Config) { c.Bridge = "" }, "bad interface name"},
		{"bridge_comma", func(c *Config) { c.Bridge = "br,0" }, "bad interface name"},
		{"domain", func(c *Config) { c.Domain = "a b" }, "bad domain"},
		{"range_family", func(c *Config) { c.Ranges[0].End = addr("fd00::1") }, "bad DHCP range"},
		{"range_order", func(c *Config) { c.Ranges[0].Start, c.Ranges[0].End = c.Ranges[0].End, c.Ranges[0].Start }, "ends before"},
		{"range_subnet", func(c *Config) { c.Ranges[0].End = addr("192.168.123.5") }, "not within one /24"},
		{"range_prefix", func(c *Config) { c.Ranges[0].Prefix = 33 }, "not within one /33"},
		{"lease_short", func(c *Config) { c.Ranges[0].Lease = time.Minute }, "shorter than dnsmasq's minimum"},
		{"host_no_ip", func(c *Config) { c.Hosts[0].IP = netip.Addr{} }, "no valid address"},
		{"host_anonymous", func(c *Config) { c.Hosts[1].Name = "" }, "neither MAC nor name"},
		{"host_name", func(c *Config) { c.Hosts[0].Name = "we,b" }, "bad host name"},
		{"dns_host", func(c *Config) { c.DNSHosts[0].Names = nil }, "needs an address and a name"},
		{"forwarder", func(c *Config) { c.Forwarders = []Forwarder{{}} }, "neither domain nor address"},
		{"path_relative", func(c *Config) { c.LeaseFile = "leases" }, "must be absolute"},
		{"path_space", func(c *Config) { c.HostsFile = "/a b/hosts" }, "must be absolute"},
		{"path_newline", func(c *Config) { c.LogFile = "/a\nport=53" }, "must be absolute"},
		{"user", func(c *Config) { c.User = "root\nport=0" }, "bad user"},
	}
	if err := defaultNet().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultNet()
			tc.modify(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"default"`) {
				t.Errorf("Validate = %v, want ErrInvalid naming the network and %q", err, tc.want)
			}
		})
	}
}

func TestLeaseTime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "", -1: "infinite", time.Hour: "1h", 24 * time.Hour: "24h",
		90 * time.Minute: "90m", 150 * time.Second: "150",
	} {
		if got := leaseTime(d); got != want {
			t.Errorf("leaseTime(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestLeaseMax(t *testing.T) {
	c := Config{Ranges: []Range{{Start: addr("fd00::"), End: addr("fd00::ffff:ffff:ffff"), Prefix: 64}}}
	if got := c.leaseMax(); got != 1<<31-1 {
		t.Errorf("huge IPv6 range: leaseMax = %d", got)
	}
	c = Config{Hosts: []Host{{Name: "a", IP: addr("10.0.0.2")}, {Name: "b", IP: addr("10.0.0.3")}}}
	if got := c.leaseMax(); got != 2 {
		t.Errorf("static only: leaseMax = %d", got)
	}
}

func TestAllSubnets(t *testing.T) {
	c := defaultNet()
	c.Subnets = []netip.Prefix{netip.MustParsePrefix("192.168.122.0/24"), netip.MustParsePrefix("10.5.0.1/16")}
	got := c.AllSubnets()
	want := "[192.168.122.0/24 fd00:122::/64 10.5.0.0/16]"
	if fmtSlice(got) != want {
		t.Errorf("AllSubnets = %v, want %s", got, want)
	}
}

func fmtSlice(ps []netip.Prefix) string {
	var ss []string
	for _, p := range ps {
		ss = append(ss, p.String())
	}
	return "[" + strings.Join(ss, " ") + "]"
}
