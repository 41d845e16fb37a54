package netns

import (
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestOfPID(t *testing.T) {
	if got := OfPID(1234); got != "/proc/1234/ns/net" {
		t.Errorf("OfPID(1234) = %q", got)
	}
}

func TestNextName(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		used   []string
		want   string
	}{
		{"empty", "vnet", nil, "vnet0"},
		{"first taken", "vnet", []string{"vnet0"}, "vnet1"},
		{"hole", "vnet", []string{"vnet0", "vnet2", "vnet1", "vnet4"}, "vnet3"},
		{"other prefixes ignored", "eth", []string{"vnet0", "lo", "eth1"}, "eth0"},
		{"not a prefix match", "eth", []string{"eth00", "eth0x"}, "eth0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			used := map[string]bool{}
			for _, n := range tt.used {
				used[n] = true
			}
			if got := nextName(tt.prefix, used); got != tt.want {
				t.Errorf("nextName(%q, %v) = %q, want %q", tt.prefix, tt.used, got, tt.want)
			}
		})
	}
}

func TestHostMAC(t *testing.T) {
	guest := net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	if got := hostMAC(guest).String(); got != "fe:54:00:12:34:56" {
		t.Errorf("hostMAC = %s", got)
	}
	if guest[0] != 0x52 {
		t.Errorf("hostMAC changed its argument: %s", guest)
	}
	if hostMAC(nil) != nil {
		t.Error("hostMAC(nil) is not nil")
	}
}

func TestRoute(t *testing.T) {
	tests := []struct {
		r       Route
		str     string
		dst     string
		invalid bool
	}{
		{r: Route{Gateway: netip.MustParseAddr("10.0.0.1")}, str: "default via 10.0.0.1", dst: "0.0.0.0/0"},
		{r: Route{Gateway: netip.MustParseAddr("fd00::1"), Metric: 7}, str: "default via fd00::1 metric 7", dst: "::/0"},
		{r: Route{Dst: netip.MustParsePrefix("10.1.2.3/16")}, str: "10.1.2.3/16", dst: "10.1.0.0/16"},
		{r: Route{}, str: "default", invalid: true},
		{r: Route{Dst: netip.MustParsePrefix("10.1.0.0/16"), Gateway: netip.MustParseAddr("fd00::1")}, str: "10.1.0.0/16 via fd00::1", invalid: true},
		{r: Route{Gateway: netip.MustParseAddr("::ffff:10.0.0.1")}, str: "default via ::ffff:10.0.0.1", invalid: true},
		{r: Route{Gateway: netip.MustParseAddr("10.0.0.1"), Metric: -1}, str: "default via 10.0.0.1 metric -1", invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.r.String(); got != tt.str {
				t.Errorf("String() = %q", got)
			}
			err := tt.r.validate()
			if (err != nil) != tt.invalid {
				t.Fatalf("validate() = %v, want invalid %v", err, tt.invalid)
			}
			if !tt.invalid && tt.r.dst().String() != tt.dst {
				t.Errorf("dst() = %s, want %s", tt.r.dst(), tt.dst)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}
	addr := netip.MustParsePrefix("10.0.0.2/24")
	tests := []struct {
		name string
		it   Iface
		want string // part of the error, "" when valid
	}{
		{"veth on bridge", Iface{Kind: Veth, Bridge: "br0", MAC: mac, Addrs: []netip.Prefix{addr}}, ""},
		{"ethernet with host config", Iface{Kind: Veth, HostAddrs: []netip.Prefix{addr},
			HostRoutes: []Route{{Dst: netip.MustParsePrefix("10.9.0.0/16")}}}, ""},
		{"macvlan", Iface{Kind: Macvlan, Parent: "eth0", Mode: "passthrough"}, ""},
		{"hostdev", Iface{Kind: HostDev, HostName: "eth1", GuestName: "eth0"}, ""},
		{"no kind", Iface{}, `unknown kind ""`},
		{"veth with parent", Iface{Kind: Veth, Parent: "eth0"}, "no parent"},
		{"macvlan without parent", Iface{Kind: Macvlan}, "no parent device"},
		{"macvlan bad mode", Iface{Kind: Macvlan, Parent: "eth0", Mode: "source"}, `unknown macvlan mode "source"`},
		{"macvlan on bridge", Iface{Kind: Macvlan, Parent: "eth0", Bridge: "br0"}, "only a veth"},
		{"hostdev without name", Iface{Kind: HostDev}, "no host device"},
		{"hostdev lo", Iface{Kind: HostDev, HostName: "lo"}, "loopback"},
		{"hostdev MAC", Iface{Kind: HostDev, HostName: "eth1", MAC: mac}, "own MAC"},
		{"host addrs on bridge", Iface{Kind: Veth, Bridge: "br0", HostAddrs: []netip.Prefix{addr}}, "unattached veth"},
		{"long name", Iface{Kind: Veth, HostName: "vnet0123456789ab"}, "longer than 15"},
		{"slash", Iface{Kind: Veth, GuestName: "eth/0"}, "not allowed"},
		{"pattern", Iface{Kind: Veth, HostName: "vnet%d"}, "not allowed"},
		{"dot", Iface{Kind: Veth, Bridge: "."}, "not a valid link name"},
		{"guest lo", Iface{Kind: Veth, GuestName: "lo"}, "loopback"},
		{"short MAC", Iface{Kind: Veth, MAC: mac[:5]}, "not 6 bytes"},
		{"multicast MAC", Iface{Kind: Veth, MAC: net.HardwareAddr{1, 0, 0x5e, 0, 0, 1}}, "multicast"},
		{"MTU", Iface{Kind: Veth, MTU: 67}, "out of range"},
		{"down with routes", Iface{Kind: Veth, Down: true, Routes: []Route{{Gateway: addr.Addr()}}}, "need the interface up"},
		{"bad addr", Iface{Kind: Veth, Addrs: []netip.Prefix{{}}}, "bad address"},
		{"bad route", Iface{Kind: Veth, Routes: []Route{{}}}, "no destination"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateAll([]Iface{tt.it}, nil)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestValidateNames(t *testing.T) {
	tests := []struct {
		name   string
		ifaces []Iface
		taken  []string
		want   string
	}{
		{"host twice", []Iface{{Kind: Veth, HostName: "v0"}, {Kind: HostDev, HostName: "v0"}}, nil, `host name "v0" is used twice`},
		{"guest twice", []Iface{{Kind: Veth, GuestName: "eth0"}, {Kind: Macvlan, Parent: "p", GuestName: "eth0"}}, nil, `guest name "eth0" is taken`},
		{"guest in container", []Iface{{Kind: Veth, GuestName: "eth3"}}, []string{"lo", "eth3"}, `interface eth3: guest name "eth3" is taken`},
		{"macvlans ignore host name", []Iface{{Kind: Macvlan, Parent: "p", HostName: "x"}, {Kind: Macvlan, Parent: "p", HostName: "x"}}, nil, ""},
		{"label by position", []Iface{{Kind: Veth}, {Kind: "tap"}}, nil, "invalid interface #1: unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taken := map[string]bool{}
			for _, n := range tt.taken {
				taken[n] = true
			}
			err := validateAll(tt.ifaces, taken)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestIPNetRoundTrip(t *testing.T) {
	for _, s := range []string{"10.213.0.5/24", "fd00:213::5/64", "0.0.0.0/0", "::/0"} {
		p := netip.MustParsePrefix(s)
		n := ipNet(p)
		if s == "10.213.0.5/24" && (len(n.IP) != 4 || n.String() != "10.213.0.5/24") {
			t.Errorf("ipNet(%s) = %v (len %d)", s, n, len(n.IP))
		}
		back, ok := prefixOf(n)
		if !ok || back != p {
			t.Errorf("prefixOf(ipNet(%s)) = %v, %v", s, back, ok)
		}
	}
	v4in16 := &net.IPNet{IP: net.ParseIP("10.1.2.3"), Mask: net.CIDRMask(8, 32)}
	if p, ok := prefixOf(v4in16); !ok || p.String() != "10.1.2.3/8" {
		t.Errorf("prefixOf(16-byte IPv4) = %v, %v", p, ok)
	}
	if _, ok := prefixOf(nil); ok {
		t.Error("prefixOf(nil) is ok")
	}
}

func TestCountersSwapped(t *testing.T) {
	c := Counters{RxBytes: 1, RxPackets: 2, RxErrs: 3, RxDrop: 4, TxBytes: 5, TxPackets: 6, TxErrs: 7, TxDrop: 8}
	want := Counters{RxBytes: 5, RxPackets: 6, RxErrs: 7, RxDrop: 8, TxBytes: 1, TxPackets: 2, TxErrs: 3, TxDrop: 4}
	if got := c.Swapped(); got != want {
		t.Errorf("Swapped() = %+v", got)
	}
	if c.Swapped().Swapped() != c {
		t.Error("Swapped is not its own inverse")
	}
}

func TestPlumbingJSON(t *testing.T) {
	p := Plumbing{Links: []Link{
		{Kind: Veth, HostName: "vnet0", HostIndex: 12, GuestName: "eth0", GuestIndex: 2, MAC: "52:54:00:00:00:01"},
		{Kind: Macvlan, GuestName: "eth1", GuestIndex: 3, MAC: "52:54:00:00:00:02"},
		{Kind: HostDev, HostName: "enp3s0", HostIndex: 4, GuestName: "eth2", GuestIndex: 4, MAC: "00:11:22:33:44:55", MTU: 1500, Up: true},
	}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"kind":"macvlan"`) {
		t.Errorf("kind is not readable in %s", b)
	}
	var back Plumbing
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, p)
	}
}
