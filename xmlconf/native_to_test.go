package xmlconf

import (
	"encoding/xml"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"
)

// nativeRichXML is a domain using every element ToNative converts, and
// some it can only note.
const nativeRichXML = `
<domain type='lxc'>
  <name>rich</name>
  <memory unit='MiB'>512</memory>
  <memtune>
    <hard_limit unit='KiB'>262144</hard_limit>
    <soft_limit unit='MiB'>128</soft_limit>
    <swap_hard_limit unit='GiB'>1</swap_hard_limit>
  </memtune>
  <blkiotune>
    <weight>500</weight>
    <device><path>/dev/block/8:16</path><weight>1000</weight><read_bytes_sec>1234</read_bytes_sec><write_iops_sec>8765</write_iops_sec></device>
    <device><path>/dev/sda</path><weight>100</weight></device>
  </blkiotune>
  <vcpu placement='static' cpuset='0-3,^2'>2</vcpu>
  <cputune><shares>512</shares><period>100000</period><quota>50000</quota></cputune>
  <numatune><memory mode='strict' nodeset='0'/></numatune>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>exec</initarg>
    <initenv name='FOO'>bar baz</initenv>
    <initdir>/root</initdir>
    <inituser>1000</inituser>
    <initgroup>+100</initgroup>
  </os>
  <idmap>
    <uid start='0' target='100000' count='65536'/>
    <gid start='0' target='100000' count='65536'/>
  </idmap>
  <features>
    <capabilities policy='default'><mknod state='on'/><net_raw state='off'/></capabilities>
  </features>
  <devices>
    <filesystem type='mount'><source dir='/srv/rich/rootfs'/><target dir='/'/></filesystem>
    <filesystem type='mount'><source dir='/srv/my data'/><target dir='/data'/><readonly/></filesystem>
    <filesystem type='bind'><source dir='/home'/><target dir='/srv/home'/></filesystem>
    <filesystem type='ram'><source usage='8' units='MiB'/><target dir='/run'/></filesystem>
    <filesystem type='block'><source dev='/dev/sdb1'/><target dir='/mnt'/></filesystem>
    <interface type='bridge'>
      <mac address='52:54:00:12:34:56'/>
      <source bridge='br0'/>
      <ip address='192.168.1.10' family='ipv4' prefix='24'/>
      <ip address='fd00::10' family='ipv6' prefix='64'/>
      <route family='ipv4' address='0.0.0.0' gateway='192.168.1.1'/>
      <route family='ipv4' address='10.0.0.0' prefix='8' gateway='192.168.1.254'/>
      <target dev='vethrich'/>
      <guest dev='eth0'/>
      <mtu size='1400'/>
    </interface>
    <interface type='ethernet'><guest dev='eth1'/><link state='up'/></interface>
    <interface type='direct'><source dev='eth0' mode='bridge'/></interface>
    <interface type='network'><source network='default'/></interface>
    <hostdev mode='capabilities' type='net'>
      <source><interface>eth3</interface></source>
      <ip address='10.1.0.2' family='ipv4' prefix='16'/>
      <route family='ipv4' address='0.0.0.0' gateway='10.1.0.1'/>
    </hostdev>
    <hostdev mode='capabilities' type='misc'><source><char>/dev/tty0</char></source></hostdev>
    <console type='pty'><target type='lxc' port='0'/></console>
    <console type='pty'><target type='lxc' port='1'/></console>
  </devices>
</domain>
`

// nativeRichConfig is ToNative's output for nativeRichXML. Every key was
// checked with LXC 5.0.2 (TestNativeLXCAccepts repeats the check when
// lxc-info is installed).
const nativeRichConfig = `
# nsvirt: LXC configuration converted from the domain "rich"
lxc.uts.name = rich
lxc.mount.auto = proc:mixed sys:ro cgroup:mixed
lxc.autodev = 1
lxc.arch = x86_64
lxc.rootfs.path = dir:/srv/rich/rootfs
lxc.mount.entry = /srv/my\040data data none bind,create=dir,ro 0 0
lxc.mount.entry = home srv/home none bind,relative,create=dir 0 0
lxc.mount.entry = tmpfs run tmpfs size=8388608,nosuid,nodev,create=dir 0 0
# nsvirt: <filesystem> block filesystem /dev/sdb1 on "/mnt": lxc.mount.entry needs the filesystem type, which the domain does not give; not converted
lxc.idmap = u 0 100000 65536
lxc.idmap = g 0 100000 65536
lxc.net.0.type = veth
lxc.net.0.link = br0
lxc.net.0.hwaddr = 52:54:00:12:34:56
lxc.net.0.name = eth0
lxc.net.0.veth.pair = vethrich
lxc.net.0.mtu = 1400
lxc.net.0.flags = up
lxc.net.0.ipv4.address = 192.168.1.10/24
lxc.net.0.ipv6.address = fd00::10/64
lxc.net.0.ipv4.gateway = 192.168.1.1
# nsvirt: lxc.net.0: route to 10.0.0.0 via 192.168.1.254 is not converted (LXC only sets a default gateway)
lxc.net.1.type = veth
lxc.net.1.name = eth1
lxc.net.1.flags = up
lxc.net.2.type = macvlan
lxc.net.2.link = eth0
lxc.net.2.macvlan.mode = bridge
# nsvirt: <interface type='network'> (network "default"): its bridge is chosen when the domain starts; not converted
lxc.net.3.type = phys
lxc.net.3.link = eth3
lxc.net.3.flags = up
lxc.net.3.ipv4.address = 10.1.0.2/16
lxc.net.3.ipv4.gateway = 10.1.0.1
lxc.tty.max = 2
lxc.cap.drop = audit_control mac_admin net_raw sys_module sys_time
lxc.cgroup2.memory.max = 268435456
lxc.cgroup2.memory.high = 134217728
lxc.cgroup2.memory.swap.max = 1073741824
lxc.cgroup2.cpu.weight = 512
lxc.cgroup2.cpu.max = 50000 100000
lxc.cgroup2.cpuset.cpus = 0-1,3
lxc.cgroup2.cpuset.mems = 0
lxc.cgroup2.io.weight = default 500
lxc.cgroup2.io.weight = 8:16 1000
lxc.cgroup2.io.max = 8:16 rbps=1234 wiops=8765
# nsvirt: <blkiotune> device /dev/sda: LXC needs its MAJOR:MINOR numbers (use /dev/block/MAJ:MIN); not converted
lxc.init.cmd = /bin/sh -c exec
lxc.init.cwd = /root
lxc.init.uid = 1000
lxc.init.gid = 100
lxc.environment = FOO=bar baz
# nsvirt: <hostdev> misc /dev/tty0 has no LXC equivalent; not converted
`

func nativeDomainFromXML(t *testing.T, doc string) *Domain {
	t.Helper()
	var def libvirtxml.Domain
	if err := xml.Unmarshal([]byte(doc), &def); err != nil {
		t.Fatalf("unmarshal test domain: %v", err)
	}
	return &Domain{Def: &def}
}

func TestToNativeRich(t *testing.T) {
	got, err := ToNative(nativeDomainFromXML(t, nativeRichXML))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimPrefix(nativeRichConfig, "\n"); got != want {
		t.Errorf("ToNative:\n%s\nwant:\n%s", got, want)
	}
}

// TestToNativeRoundTrip converts the rich domain to LXC and back and
// checks that every fact LXC can express survived.
func TestToNativeRoundTrip(t *testing.T) {
	orig := nativeDomainFromXML(t, nativeRichXML).Def
	config, err := ToNative(&Domain{Def: orig})
	if err != nil {
		t.Fatal(err)
	}
	d, warnings, err := FromNative([]byte(config), nativeTestOpts)
	if err != nil {
		t.Fatalf("FromNative(ToNative(d)): %v\n%s", err, config)
	}
	nativeNoWarnings(t, warnings)
	back := d.Def
	nativeWantEqual(t, "name", back.Name, orig.Name)
	nativeWantEqual(t, "arch", back.OS.Type.Arch, orig.OS.Type.Arch)
	nativeWantEqual(t, "init", []any{back.OS.Init, back.OS.InitArgs, back.OS.InitEnv, back.OS.InitDir, back.OS.InitUser, back.OS.InitGroup},
		[]any{orig.OS.Init, orig.OS.InitArgs, orig.OS.InitEnv, orig.OS.InitDir, orig.OS.InitUser, "100"})
	nativeWantEqual(t, "idmap", back.IDMap, orig.IDMap)
	nativeWantEqual(t, "filesystems", nativeFSFacts(back), []string{
		"mount /srv/rich/rootfs -> /", "mount /srv/my data -> /data ro", "bind /home -> /srv/home", "ram 8192 KiB -> /run"})
	macs := []bool{true, false, false}
	nativeWantEqual(t, "interfaces", nativeIfaceFacts(t, back.Devices.Interfaces, macs), nativeIfaceFacts(t, orig.Devices.Interfaces[:3], macs))
	nativeWantEqual(t, "hostdev", back.Devices.Hostdevs[0].CapsNet, orig.Devices.Hostdevs[0].CapsNet)
	nativeWantEqual(t, "consoles", len(back.Devices.Consoles), 2)
	nativeWantEqual(t, "memtune", *back.MemoryTune, libvirtxml.DomainMemoryTune{
		HardLimit:     &libvirtxml.DomainMemoryTuneLimit{Value: 262144, Unit: "KiB"},
		SoftLimit:     &libvirtxml.DomainMemoryTuneLimit{Value: 131072, Unit: "KiB"},
		SwapHardLimit: &libvirtxml.DomainMemoryTuneLimit{Value: 1048576, Unit: "KiB"},
	})
	nativeWantEqual(t, "cputune", back.CPUTune, orig.CPUTune)
	nativeWantEqual(t, "cpuset", back.VCPU.CPUSet, "0-1,3")
	nativeWantEqual(t, "numatune", back.NUMATune, orig.NUMATune)
	nativeWantEqual(t, "blkiotune", *back.BlockIOTune, libvirtxml.DomainBlockIOTune{Weight: 500, Device: orig.BlockIOTune.Device[:1]})
	nativeWantEqual(t, "dropped capabilities", nativeDroppedCaps(back), nativeDroppedCaps(orig))
}

func nativeFSFacts(def *libvirtxml.Domain) []string {
	var out []string
	for _, fs := range def.Devices.Filesystems {
		d := nativeTestFSSource(fs)
		if fs.Source.RAM != nil {
			d = "ram " + strconv.FormatUint(uint64(fs.Source.RAM.Usage), 10) + " " + fs.Source.RAM.Units
		}
		d += " -> " + fs.Target.Dir
		if fs.ReadOnly != nil {
			d += " ro"
		}
		out = append(out, d)
	}
	return out
}

// nativeIfaceFacts keeps what an LXC device can carry: type, source,
// names, MTU, addresses, default routes, whether it comes up, and the MAC
// when the original has one (Complete generates the others), as XML.
func nativeIfaceFacts(t *testing.T, ifs []libvirtxml.DomainInterface, macs []bool) []string {
	t.Helper()
	var out []string
	for n, i := range ifs {
		f := libvirtxml.DomainInterface{Source: i.Source, IP: i.IP, Target: i.Target, Guest: i.Guest, MTU: i.MTU}
		if macs[n] {
			f.MAC = i.MAC
		}
		for _, r := range i.Route {
			if r.Prefix == 0 {
				f.Route = append(f.Route, r)
			}
		}
		if len(i.IP) > 0 || (i.Link != nil && i.Link.State == "up") {
			f.Link = &libvirtxml.DomainInterfaceLink{State: "up"}
		}
		b, err := xml.Marshal(&f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// nativeDroppedCaps is the set of capabilities a domain's policy drops.
func nativeDroppedCaps(def *libvirtxml.Domain) []string {
	caps := &libvirtxml.DomainFeatureCapabilities{}
	if def.Features != nil && def.Features.Capabilities != nil {
		caps = def.Features.Capabilities
	}
	var dropped []string
	for _, name := range nativeCapOrder {
		state := ""
		if f := *nativeCapField(caps, name); f != nil {
			state = f.State
		}
		switch caps.Policy {
		case "deny":
			if state != "on" {
				dropped = append(dropped, name)
			}
		case "allow":
			if state == "off" {
				dropped = append(dropped, name)
			}
		default:
			if state == "off" || (nativeDefaultDrops[name] && state != "on") {
				dropped = append(dropped, name)
			}
		}
	}
	sort.Strings(dropped)
	return dropped
}

// nativeDefaultLines are what ToNative writes for libvirt's defaults: the
// default init, the mounts the driver always provides and the
// capabilities the default policy drops.
var nativeDefaultLines = map[string]bool{
	"lxc.init.cmd = /sbin/init":                                        true,
	"lxc.cap.drop = audit_control mac_admin mknod sys_module sys_time": true,
	"lxc.mount.auto = proc:mixed sys:ro cgroup:mixed":                  true,
	"lxc.autodev = 1": true,
}

// nativeToNativeLines converts a domain given as XML and returns the
// configuration lines other than comments and nativeDefaultLines.
func nativeToNativeLines(t *testing.T, doc string) []string {
	t.Helper()
	out, err := ToNative(nativeDomainFromXML(t, doc))
	if err != nil {
		t.Fatalf("ToNative: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(l, "#") && !nativeDefaultLines[l] {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestToNativeVariants(t *testing.T) {
	const head = "<domain type='lxc'><name>v</name>"
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"host network", "", []string{"lxc.uts.name = v", "lxc.net.0.type = none"}},
		{"privnet", "<features><privnet/></features>", []string{"lxc.uts.name = v", "lxc.net.0.type = empty"}},
		{"unconvertible interface keeps a private network", "<devices><interface type='network'><source network='default'/></interface></devices>",
			[]string{"lxc.uts.name = v", "lxc.net.0.type = empty"}},
		{"block root, read-only", "<devices><filesystem type='block'><source dev='/dev/vg/c'/><target dir='/'/><readonly/></filesystem></devices>",
			[]string{"lxc.uts.name = v", "lxc.rootfs.path = /dev/vg/c", "lxc.rootfs.options = ro", "lxc.net.0.type = none"}},
		{"loop image root", "<devices><filesystem type='file'><driver type='loop' format='raw'/><source file='/srv/c.img'/><target dir='/'/></filesystem></devices>",
			[]string{"lxc.uts.name = v", "lxc.rootfs.path = loop:/srv/c.img", "lxc.net.0.type = none"}},
		{"qcow2 image root", "<devices><filesystem type='file'><driver type='nbd' format='qcow2'/><source file='/srv/c.qcow2'/><target dir='/'/></filesystem></devices>",
			[]string{"lxc.uts.name = v", "lxc.rootfs.path = nbd:/srv/c.qcow2", "lxc.net.0.type = none"}},
		{"host root: absolute mount targets", "<devices><filesystem type='mount'><source dir='/'/><target dir='/'/></filesystem>" +
			"<filesystem type='mount'><source dir='/srv/x'/><target dir='/x'/></filesystem></devices>",
			[]string{"lxc.uts.name = v", "lxc.mount.entry = /srv/x /x none bind,create=dir 0 0", "lxc.net.0.type = none"}},
		{"deny policy", "<features><capabilities policy='deny'><chown state='on'/><kill state='on'/></capabilities></features>",
			[]string{"lxc.uts.name = v", "lxc.net.0.type = none", "lxc.cap.keep = chown kill"}},
		{"deny everything", "<features><capabilities policy='deny'/></features>",
			[]string{"lxc.uts.name = v", "lxc.net.0.type = none", "lxc.cap.keep = none"}},
		{"allow policy", "<features><capabilities policy='allow'><sys_admin state='off'/></capabilities></features>",
			[]string{"lxc.uts.name = v", "lxc.net.0.type = none", "lxc.cap.drop = sys_admin"}},
		{"memory only", "<memory unit='KiB'>65536</memory>",
			[]string{"lxc.uts.name = v", "lxc.net.0.type = none", "lxc.cgroup2.memory.max = 67108864"}},
		{"quota without period", "<cputune><quota>-1</quota></cputune>",
			[]string{"lxc.uts.name = v", "lxc.net.0.type = none", "lxc.cgroup2.cpu.max = max 100000"}},
		{"quoted values", "<os><type>exe</type><initenv name='A'> x </initenv><initdir>'q'</initdir></os>",
			[]string{"lxc.uts.name = v", "lxc.net.0.type = none", `lxc.init.cwd = "'q'"`, `lxc.environment = "A= x "`}},
		{"blkio device without numbers", "<blkiotune><device><path>/dev/block/x:y</path><weight>10</weight></device></blkiotune>",
			[]string{"lxc.uts.name = v", "lxc.net.0.type = none"}},
		{"direct default mode is vepa", "<devices><interface type='direct'><source dev='eth0'/></interface></devices>",
			[]string{"lxc.uts.name = v", "lxc.net.0.type = macvlan", "lxc.net.0.link = eth0", "lxc.net.0.macvlan.mode = vepa"}},
		{"address without prefix gets libvirt's default", "<devices><interface type='ethernet'><ip address='10.0.0.2'/><ip address='172.16.0.2'/></interface></devices>",
			[]string{"lxc.uts.name = v", "lxc.net.0.type = veth", "lxc.net.0.flags = up", "lxc.net.0.ipv4.address = 10.0.0.2/8", "lxc.net.0.ipv4.address = 172.16.0.2/16"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := nativeToNativeLines(t, head+c.body+"</domain>")
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestToNativeQuotedValuesRoundTrip(t *testing.T) {
	config, err := ToNative(nativeDomainFromXML(t, "<domain type='lxc'><name>v</name><os><type>exe</type>"+
		"<initenv name='A'> x </initenv><initdir>'q'</initdir></os></domain>"))
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := FromNative([]byte(config), nativeTestOpts)
	if err != nil {
		t.Fatal(err)
	}
	nativeWantEqual(t, "env", d.Def.OS.InitEnv, []libvirtxml.DomainOSInitEnv{{Name: "A", Value: " x "}})
	nativeWantEqual(t, "dir", d.Def.OS.InitDir, "'q'")
}

func TestToNativeErrors(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"no name", "<domain type='lxc'/>", "no name"},
		{"long name", "<domain type='lxc'><name>" + strings.Repeat("n", 65) + "</name></domain>", "longer than"},
		{"init argument with a space", "<domain type='lxc'><name>v</name><os><init>/bin/sh</init><initarg>echo hi</initarg></os></domain>", "splits at spaces"},
		{"user name", "<domain type='lxc'><name>v</name><os><inituser>bob</inituser></os></domain>", "not numeric"},
		{"line break in a value", "<domain type='lxc'><name>v</name><os><initdir>/a\n/b</initdir></os></domain>", "line break"},
		{"ram without size", "<domain type='lxc'><name>v</name><devices><filesystem type='ram'><source usage='0'/><target dir='/run'/></filesystem></devices></domain>", "needs a size"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ToNative(nativeDomainFromXML(t, c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := ToNative(nil); err == nil {
		t.Error("ToNative(nil) succeeded")
	}
}
