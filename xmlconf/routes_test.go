package xmlconf

import (
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"
)

// routesDomain has routes with and without prefix='0' in the three places
// libvirt allows them.
var routesDomain = edit("<console", `<interface type='ethernet'>
      <source>
        <ip address='192.168.1.1' prefix='32' peer='192.168.1.2'/>
        <route family='ipv4' address='0.0.0.0' prefix='0' gateway='192.168.1.2'/>
        <route family='ipv4' address='10.9.0.0' gateway='192.168.1.2'/>
      </source>
      <ip address='192.168.1.2' prefix='32' peer='192.168.1.1'/>
      <route family='ipv4' address='0.0.0.0' prefix='0' gateway='192.168.1.1'/>
      <route family='ipv4' address='10.0.0.0' gateway='192.168.1.1'/>
      <route family='ipv4' address='10.1.0.0' prefix='16' gateway='192.168.1.1'/>
    </interface>
    <hostdev mode='capabilities' type='net'>
      <source><interface>eth9</interface></source>
      <route family='ipv4' address='0.0.0.0' prefix='0' gateway='10.0.0.1'/>
      <route family='ipv4' address='10.5.0.0' netmask='255.255.0.0' gateway='10.0.0.1' metric='5'/>
      <route family='ipv4' address='10.6.0.0' gateway='10.0.0.1'/>
    </hostdev>
    <console`)

func TestRoutePrefixZero(t *testing.T) {
	out := mustFormat(t, []byte(routesDomain))
	for _, want := range []string{
		"<route family='ipv4' address='0.0.0.0' prefix='0' gateway='192.168.1.2'/>",
		"<route family='ipv4' address='10.9.0.0' gateway='192.168.1.2'/>",
		"<route family='ipv4' address='0.0.0.0' prefix='0' gateway='192.168.1.1'/>",
		"<route family='ipv4' address='10.0.0.0' gateway='192.168.1.1'/>",
		"<route family='ipv4' address='10.1.0.0' prefix='16' gateway='192.168.1.1'/>",
		"<route family='ipv4' address='0.0.0.0' prefix='0' gateway='10.0.0.1'/>",
		"<route family='ipv4' address='10.5.0.0' netmask='255.255.0.0' gateway='10.0.0.1' metric='5'/>",
		"<route family='ipv4' address='10.6.0.0' gateway='10.0.0.1'/>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

func TestRouteAccessors(t *testing.T) {
	d, _, err := ParseDomain([]byte(routesDomain), conformanceOpts)
	if err != nil {
		t.Fatal(err)
	}
	iface := &d.Def.Devices.Interfaces[0]
	type pfx struct {
		prefix uint
		has    bool
	}
	check := func(what string, routes []Route, want []pfx) {
		t.Helper()
		if len(routes) != len(want) {
			t.Fatalf("%s: %d routes, want %d", what, len(routes), len(want))
		}
		for i, r := range routes {
			if r.Prefix != want[i].prefix || r.HasPrefix != want[i].has {
				t.Errorf("%s route %d (%s): prefix %d/%v, want %d/%v", what, i, r.Address, r.Prefix, r.HasPrefix, want[i].prefix, want[i].has)
			}
		}
	}
	check("guest", d.InterfaceRoutes(iface), []pfx{{0, true}, {0, false}, {16, true}})
	check("host", d.HostRoutes(iface), []pfx{{0, true}, {0, false}})
	hostdev := d.HostdevRoutes(&d.Def.Devices.Hostdevs[0])
	check("hostdev", hostdev, []pfx{{0, true}, {0, false}, {0, false}})
	if r := hostdev[1]; r.Netmask != "255.255.0.0" || r.Metric != 5 || !r.HasMetric {
		t.Errorf("hostdev route 1 = %+v, want netmask 255.255.0.0 and metric 5", r)
	}
	if p, ok := d.RoutePrefix(iface.Route[0]); p != 0 || !ok {
		t.Errorf("RoutePrefix(guest default route) = %d, %v; want 0, true", p, ok)
	}
	if _, ok := d.RoutePrefix(iface.Route[1]); ok {
		t.Errorf("RoutePrefix(route without prefix) reports a prefix")
	}
}

func TestSetRoutePrefix(t *testing.T) {
	d, _, err := ParseDomain([]byte(edit("<console", "<interface type='bridge'><source bridge='b'/></interface><console")), conformanceOpts)
	if err != nil {
		t.Fatal(err)
	}
	iface := &d.Def.Devices.Interfaces[0]
	iface.Route = append(iface.Route, libvirtxml.DomainInterfaceRoute{Family: "ipv4", Address: "0.0.0.0", Gateway: "10.0.0.1"})
	d.SetRoutePrefix(&iface.Route[0], false, 0)
	out, err := FormatDomain(d, FormatOptions{Inactive: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "<route family='ipv4' address='0.0.0.0' prefix='0' gateway='10.0.0.1'/>") {
		t.Errorf("prefix='0' set in code is not written:\n%s", out)
	}
}

func TestClone(t *testing.T) {
	d, _, err := ParseDomain([]byte(routesDomain), conformanceOpts)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := FormatDomain(d, FormatOptions{Inactive: true})
	c := d.Clone()
	cloned, _ := FormatDomain(c, FormatOptions{Inactive: true})
	if cloned != before {
		t.Fatalf("clone formats differently:\n%s", lineDiff(before, cloned))
	}
	// Change the clone everywhere it shares nothing with the original.
	c.Def.Name = "changed"
	c.Def.Devices.Interfaces[0].Route[0].Gateway = "192.168.1.9"
	c.Def.Devices.Interfaces[0].Source.Ethernet.IP[0].Address = "192.168.1.9"
	c.Def.Devices.Hostdevs[0].CapsNet.Route = nil
	c.Def.Devices.Consoles[0].Target.Port = new(uint)
	*c.Def.Devices.Consoles[0].Target.Port = 7
	c.SetRoutePrefix(&c.Def.Devices.Interfaces[0].Route[1], false, 0)
	after, _ := FormatDomain(d, FormatOptions{Inactive: true})
	if after != before {
		t.Errorf("changing the clone changed the original:\n%s", lineDiff(before, after))
	}
	if p, ok := c.RoutePrefix(c.Def.Devices.Interfaces[0].Route[2]); p != 16 || !ok {
		t.Errorf("clone route prefix = %d, %v; want 16, true", p, ok)
	}
}
