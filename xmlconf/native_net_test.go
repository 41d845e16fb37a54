package xmlconf

import (
	"testing"

	"libvirt.org/go/libvirtxml"
)

func nativeOneIface(t *testing.T, def *libvirtxml.Domain) libvirtxml.DomainInterface {
	t.Helper()
	if len(def.Devices.Interfaces) != 1 {
		t.Fatalf("%d interfaces, want 1", len(def.Devices.Interfaces))
	}
	if def.Features.PrivNet != nil {
		t.Errorf("privnet set next to an interface")
	}
	return def.Devices.Interfaces[0]
}

func TestNativeNetworkTypes(t *testing.T) {
	runNativeCases(t, []nativeCase{{
		name:   "veth with link is a bridge",
		config: "lxc.net.0.type = veth\nlxc.net.0.link = virbr0\nlxc.net.0.flags = up\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			i := nativeOneIface(t, def)
			nativeWantEqual(t, "bridge", i.Source.Bridge, &libvirtxml.DomainInterfaceSourceBridge{Bridge: "virbr0"})
			nativeWantEqual(t, "link", i.Link.State, "up")
			nativeNoWarnings(t, w)
		},
	}, {
		name:   "veth without link is ethernet, link down without flags",
		config: "lxc.net.0.type = veth\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			i := nativeOneIface(t, def)
			nativeWantEqual(t, "ethernet", i.Source.Ethernet != nil, true)
			nativeWantEqual(t, "link", i.Link.State, "down")
		},
	}, {
		name:   "any flags value is up in LXC",
		config: "lxc.net.0.type = veth\nlxc.net.0.flags = down\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "link", nativeOneIface(t, def).Link.State, "up")
			nativeWantWarning(t, w, "lxc.net.0.flags", "any flags value")
		},
	}, {
		name:   "macvlan default mode",
		config: "lxc.net.0.type = macvlan\nlxc.net.0.link = eth0\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "direct", nativeOneIface(t, def).Source.Direct, &libvirtxml.DomainInterfaceSourceDirect{Dev: "eth0", Mode: "private"})
		},
	}, {
		name:   "macvlan passthru",
		config: "lxc.net.0.type = macvlan\nlxc.net.0.link = eth0\nlxc.net.0.macvlan.mode = passthru\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "mode", nativeOneIface(t, def).Source.Direct.Mode, "passthrough")
		},
	}, {
		name:   "macvlan unknown mode",
		config: "lxc.net.0.type = macvlan\nlxc.net.0.link = eth0\nlxc.net.0.macvlan.mode = weird\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "mode", nativeOneIface(t, def).Source.Direct.Mode, "private")
			nativeWantWarning(t, w, "macvlan.mode", "weird")
		},
	}, {
		name:    "macvlan needs a link",
		config:  "lxc.net.0.type = macvlan\n",
		wantErr: "missing lxc.net.0.link",
	}, {
		name: "phys becomes a hostdev with addresses and routes",
		config: "lxc.net.0.type = phys\nlxc.net.0.link = eth1\nlxc.net.0.ipv4.address = 10.0.0.2/24\n" +
			"lxc.net.0.ipv4.gateway = 10.0.0.1\nlxc.net.0.name = eth0\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			prefix := uint(24)
			nativeWantEqual(t, "hostdev", def.Devices.Hostdevs, []libvirtxml.DomainHostdev{{CapsNet: &libvirtxml.DomainHostdevCapsNet{
				Source: &libvirtxml.DomainHostdevCapsNetSource{Interface: "eth1"},
				IP:     []libvirtxml.DomainIP{{Address: "10.0.0.2", Family: "ipv4", Prefix: &prefix}},
				Route:  []libvirtxml.DomainRoute{{Family: "ipv4", Address: "0.0.0.0", Gateway: "10.0.0.1"}},
			}}})
			nativeWantEqual(t, "privnet", def.Features.PrivNet == nil, true)
			nativeWantWarning(t, w, "lxc.net.0.name", "not supported for a phys device")
		},
	}, {
		name:   "vlan is the host's LINK.ID interface",
		config: "lxc.net.0.type = vlan\nlxc.net.0.link = eth0\nlxc.net.0.vlan.id = 2\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "iface", def.Devices.Hostdevs[0].CapsNet.Source.Interface, "eth0.2")
		},
	}, {
		name:    "phys needs a link",
		config:  "lxc.net.0.type = phys\n",
		wantErr: "missing lxc.net.0.link",
	}, {
		name:   "none shares the host network",
		config: "lxc.net.0.type = none\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "privnet", def.Features.PrivNet == nil, true)
			nativeWantEqual(t, "interfaces", len(def.Devices.Interfaces), 0)
		},
	}, {
		name:   "empty is a private loopback-only network",
		config: "lxc.net.0.type = empty\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "privnet", def.Features.PrivNet != nil, true)
		},
	}, {
		name:   "ipvlan is skipped with a warning",
		config: "lxc.net.0.type = ipvlan\nlxc.net.0.link = eth0\nlxc.net.0.ipvlan.mode = l3\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "privnet", def.Features.PrivNet != nil, true)
			nativeWantWarning(t, w, "lxc.net.0.type", "ipvlan", "cannot be converted")
			nativeWantWarning(t, w, "lxc.net.0.ipvlan.mode", "no domain XML equivalent")
		},
	}, {
		name:   "device without type",
		config: "lxc.net.0.link = br0\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantWarning(t, w, "type is not set")
			nativeWantEqual(t, "privnet", def.Features.PrivNet != nil, true)
		},
	}})
}

func TestNativeNetworkKeys(t *testing.T) {
	const veth = "lxc.net.0.type = veth\nlxc.net.0.link = br0\n"
	runNativeCases(t, []nativeCase{{
		name: "addresses, gateways, names, MAC, MTU, veth pair",
		config: veth + "lxc.net.0.hwaddr = 02:00:15:8F:05:C1\nlxc.net.0.name = eth0\nlxc.net.0.mtu = 1400\n" +
			"lxc.net.0.veth.pair = vethc1\nlxc.net.0.ipv4.address = 192.168.122.2/24 192.168.122.255\n" +
			"lxc.net.0.ipv6.address = 2003:db8:1:0:214:1234:fe0b:3596/64\nlxc.net.0.ipv4.gateway = 192.168.122.1\n" +
			"lxc.net.0.ipv6.gateway = 2003:db8::1\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			i := nativeOneIface(t, def)
			nativeWantEqual(t, "mac", i.MAC.Address, "02:00:15:8f:05:c1")
			nativeWantEqual(t, "guest", i.Guest.Dev, "eth0")
			nativeWantEqual(t, "mtu", i.MTU.Size, uint(1400))
			nativeWantEqual(t, "target", i.Target.Dev, "vethc1")
			nativeWantEqual(t, "ips", i.IP, []libvirtxml.DomainInterfaceIP{
				{Address: "192.168.122.2", Family: "ipv4", Prefix: 24},
				{Address: "2003:db8:1:0:214:1234:fe0b:3596", Family: "ipv6", Prefix: 64},
			})
			nativeWantEqual(t, "routes", i.Route, []libvirtxml.DomainInterfaceRoute{
				{Family: "ipv4", Address: "0.0.0.0", Gateway: "192.168.122.1"},
				{Family: "ipv6", Address: "::", Gateway: "2003:db8::1"},
			})
			nativeWantWarning(t, w, "ipv4.address", "broadcast")
		},
	}, {
		name:    "address without prefix",
		config:  veth + "lxc.net.0.ipv4.address = 10.0.0.2\n",
		wantErr: "invalid CIDR",
	}, {
		name:    "address of the wrong family",
		config:  veth + "lxc.net.0.ipv6.address = 10.0.0.2/24\n",
		wantErr: "invalid CIDR",
	}, {
		name:    "prefix too long",
		config:  veth + "lxc.net.0.ipv4.address = 10.0.0.2/33\n",
		wantErr: "invalid CIDR",
	}, {
		name:   "empty address clears its family",
		config: veth + "lxc.net.0.ipv4.address = 10.0.0.2/24\nlxc.net.0.ipv6.address = fd00::2/64\nlxc.net.0.ipv4.address =\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "ips", nativeOneIface(t, def).IP, []libvirtxml.DomainInterfaceIP{{Address: "fd00::2", Family: "ipv6", Prefix: 64}})
		},
	}, {
		name:   "host-dependent gateway",
		config: veth + "lxc.net.0.ipv4.gateway = auto\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "routes", len(nativeOneIface(t, def).Route), 0)
			nativeWantWarning(t, w, "ipv4.gateway", "depends on the host")
		},
	}, {
		name:   "random MAC",
		config: veth + "lxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			if mac := nativeOneIface(t, def).MAC; mac != nil && mac.Address == "00:16:3e:xx:xx:xx" {
				t.Errorf("MAC pattern %q kept", mac.Address)
			}
			nativeWantWarning(t, w, "hwaddr", "generated")
		},
	}, {
		name: "keys libvirt fails on are warnings",
		config: veth + "lxc.net.0.script.up = /bin/true\nlxc.net.0.l2proxy = 1\nlxc.net.0.veth.ipv4.route = 10.1.0.0/16\n" +
			"lxc.net.0.bogus = 1\nlxc.net.0.veth.mode = bridge\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeOneIface(t, def)
			nativeWantWarning(t, w, "lxc.net.0.script.up", "no domain XML equivalent")
			nativeWantWarning(t, w, "lxc.net.0.l2proxy", "no domain XML equivalent")
			nativeWantWarning(t, w, "lxc.net.0.veth.ipv4.route", "no domain XML equivalent")
			nativeWantWarning(t, w, "lxc.net.0.bogus", "unknown LXC network key")
			nativeWantEqual(t, "warnings", len(w), 4)
		},
	}, {
		name:   "devices in index order",
		config: "lxc.net.1.type = veth\nlxc.net.1.link = br1\nlxc.net.0.type = veth\nlxc.net.0.link = br0\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			ifs := def.Devices.Interfaces
			nativeWantEqual(t, "bridges", []string{ifs[0].Source.Bridge.Bridge, ifs[1].Source.Bridge.Bridge}, []string{"br0", "br1"})
		},
	}, {
		name:   "lxc.net clears, lxc.net.N removes one device",
		config: "lxc.net.0.type = veth\nlxc.net =\nlxc.net.1.type = veth\nlxc.net.1.link = br1\nlxc.net.2.type = veth\nlxc.net.2 =\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "bridge", nativeOneIface(t, def).Source.Bridge.Bridge, "br1")
		},
	}, {
		name: "legacy devices start at each type",
		config: "lxc.network.link = early\nlxc.network.type = veth\nlxc.network.link = br0\nlxc.network.ipv4 = 10.0.0.2/8\n" +
			"lxc.network.type = macvlan\nlxc.network.link = eth0\nlxc.network.macvlan.mode = bridge\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			ifs := def.Devices.Interfaces
			nativeWantEqual(t, "count", len(ifs), 2)
			nativeWantEqual(t, "first", ifs[0].Source.Bridge.Bridge, "br0")
			nativeWantEqual(t, "second", *ifs[1].Source.Direct, libvirtxml.DomainInterfaceSourceDirect{Dev: "eth0", Mode: "bridge"})
			nativeWantWarning(t, w, "line 3: lxc.network.link", "before any lxc.network.type")
		},
	}, {
		name:   "none combined with a device",
		config: "lxc.net.0.type = none\nlxc.net.1.type = veth\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeOneIface(t, def)
			nativeWantWarning(t, w, "type none is combined")
		},
	}, {
		name:    "invalid MTU",
		config:  veth + "lxc.net.0.mtu = big\n",
		wantErr: "invalid MTU",
	}})
}
