package xmlconf

import (
	"errors"
	"strings"
	"testing"
)

// baseDomain is a minimal valid LXC definition; tests edit it with
// strings.Replace.
const baseDomain = `<domain type='lxc'>
  <name>demo</name>
  <uuid>8369f1ac-7e46-e869-4ca5-759d51478066</uuid>
  <memory unit='KiB'>500000</memory>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
  </os>
  <devices>
    <console type='pty'/>
  </devices>
</domain>
`

// edit returns baseDomain with old replaced by new.
func edit(old, new string) string {
	if !strings.Contains(baseDomain, old) {
		panic("baseDomain has no " + old)
	}
	return strings.Replace(baseDomain, old, new, 1)
}

// wantError checks that err is an *Error of kind with message msg.
func wantError(t *testing.T, err error, kind ErrorKind, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *Error %q", err, msg)
	}
	if e.Kind != kind || e.Msg != msg {
		t.Fatalf("error = (kind %d) %q, want (kind %d) %q", e.Kind, e.Msg, kind, msg)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		kind ErrorKind
		msg  string
	}{
		{"root element", "<foo/>", ErrXML, "unexpected root element <foo>, expecting <domain>"},
		{"no type", edit("<domain type='lxc'>", "<domain>"), ErrInternal, "missing domain type attribute"},
		{"invalid type", edit("type='lxc'", "type='bogus'"), ErrInternal, "invalid domain type bogus"},
		{"kvm", edit("type='lxc'", "type='kvm'"), ErrInvalidArg,
			"could not find capabilities for ostype=exe arch=x86_64 domaintype=kvm "},
		{"hvm", edit("<type>exe</type>", "<type>hvm</type>"), ErrInvalidArg,
			"could not find capabilities for arch=x86_64 domaintype=lxc "},
		{"foreign arch", edit("<type>exe</type>", "<type arch='aarch64'>exe</type>"), ErrInvalidArg,
			"could not find capabilities for ostype=exe arch=aarch64 domaintype=lxc "},
		{"unknown arch", edit("<type>exe</type>", "<type arch='z80'>exe</type>"), ErrInternal,
			"Unknown architecture z80"},
		{"no os type", edit("<type>exe</type>", ""), ErrXML, "an os <type> must be specified"},
		{"unknown os type", edit("<type>exe</type>", "<type>dos</type>"), ErrInternal, "Unknown OS type 'dos'"},
		{"no name", edit("<name>demo</name>", ""), ErrNoName, "missing name information"},
		{"empty name", edit("<name>demo</name>", "<name></name>"), ErrNoName, "missing name information"},
		{"slash in name", edit("<name>demo</name>", "<name>a/b</name>"), ErrXML, "name a/b cannot contain '/'"},
		{"newline in name", edit("<name>demo</name>", "<name>a\nb</name>"), ErrXMLDetail, "invalid char in name: 0x0a"},
		{"malformed uuid", edit("8369f1ac-7e46", "8369f1ac-7x46"), ErrInternal, "malformed uuid element"},
		{"short uuid", edit("8369f1ac-7e46-e869-4ca5-759d51478066", "8369f1ac"), ErrInternal, "malformed uuid element"},
		{"title newline", edit("<name>demo</name>", "<name>demo</name><title>a\nb</title>"), ErrXML,
			"Domain title can't contain newlines"},
		{"no memory", edit("<memory unit='KiB'>500000</memory>", ""), ErrXML,
			"Memory size must be specified via <memory> or in the <numa> configuration"},
		{"zero memory", edit(">500000<", ">0<"), ErrXML,
			"Memory size must be specified via <memory> or in the <numa> configuration"},
		{"negative memory", edit(">500000<", ">-1<"), ErrXML,
			"Invalid value '-1' for element or attribute './memory[1]'"},
		{"memory not a number", edit(">500000<", ">lots<"), ErrXML,
			"Invalid value 'lots' for element or attribute './memory[1]'"},
		{"memory trailing garbage", edit(">500000<", ">5 MiB<"), ErrXML,
			"Invalid value '5 MiB' for element or attribute './memory[1]'"},
		{"memory overflow", edit(">500000<", ">99999999999999999999<"), ErrXML,
			"Invalid value '99999999999999999999' for element or attribute './memory[1]'"},
		{"unknown unit", edit("unit='KiB'", "unit='X'"), ErrInvalidArg, "unknown suffix 'X'"},
		{"unknown unit letters", edit("unit='KiB'", "unit='KiBytes'"), ErrInvalidArg, "unknown suffix 'KiBytes'"},
		{"unit overflow", edit("unit='KiB'>500000", "unit='EiB'>500000"), ErrOverflow, "value too large: 500000EiB"},
		{"size too large", edit("unit='KiB'>500000", "unit='b'>9223372036854775000"), ErrOverflow, "size value too large"},
		{"negative currentMemory", edit("<os>", "<currentMemory>-5</currentMemory><os>"), ErrXML,
			"Invalid value '-5' for element or attribute './currentMemory[1]'"},
		{"bad memtune", edit("<os>", "<memtune><hard_limit>x</hard_limit></memtune><os>"), ErrXML,
			"Invalid value 'x' for element or attribute './memtune/hard_limit[1]'"},
		{"maxMemory", edit("<os>", "<maxMemory slots='16' unit='KiB'>1524288</maxMemory><os>"), ErrConfigUnsupported,
			"memory hotplug tunables <maxMemory> are not supported by this hypervisor driver"},
		{"maxMemory too small", edit("<os>", "<maxMemory slots='16' unit='KiB'>1</maxMemory><os>"), ErrXML,
			"maximum memory size must be equal or greater than the actual memory size"},
		{"no init", edit("<init>/bin/sh</init>", ""), ErrXML, "init binary must be specified"},
		{"vcpu not a number", edit("<os>", "<vcpu>two</vcpu><os>"), ErrXML, "maximum vcpus count must be an integer"},
		{"vcpu current", edit("<os>", "<vcpu current='3'>2</vcpu><os>"), ErrInternal,
			"maxvcpus must not be less than current vcpus (2 < 3)"},
		{"vcpu placement", edit("<os>", "<vcpu placement='nowhere'>2</vcpu><os>"), ErrConfigUnsupported,
			"Unsupported CPU placement mode 'nowhere'"},
		{"cpuset", edit("<os>", "<vcpu cpuset='1-x'>2</vcpu><os>"), ErrInvalidArg, "Failed to parse bitmap '1-x'"},
		{"empty cpuset", edit("<os>", "<vcpu cpuset='1,^1'>2</vcpu><os>"), ErrConfigUnsupported,
			"Invalid value of 'cpuset': 1,^1"},
		{"individual vcpus", edit("<os>", "<vcpus><vcpu id='0' enabled='yes'/></vcpus><os>"), ErrConfigUnsupported,
			"individual CPU state configuration is not supported"},
		{"on_poweroff", edit("<devices>", "<on_poweroff>explode</on_poweroff><devices>"), ErrInternal,
			"unknown on_poweroff action: explode"},
		{"on_crash", edit("<devices>", "<on_crash>coredump</on_crash><devices>"), ErrInternal,
			"unknown on_crash action: coredump"},
		{"on_reboot coredump", edit("<devices>", "<on_reboot>coredump-restart</on_reboot><devices>"), ErrConfigUnsupported,
			"Lifecycle event 'reboot' doesn't support 'coredump-restart' action"},
		{"idmap root", edit("<devices>", idmap(1, 0)+"<devices>"), ErrConfigUnsupported, "You must map the root user of container"},
		{"idmap gid root", edit("<devices>", idmap(0, 5)+"<devices>"), ErrConfigUnsupported, "You must map the root user of container"},
		{"idmap uid only", edit("<devices>", "<idmap><uid start='0' target='1000' count='10'/></idmap><devices>"),
			ErrConfigUnsupported, "uid and gid should be mapped both"},
		{"cputune period", edit("<os>", "<cputune><period>10</period></cputune><os>"), ErrConfigUnsupported,
			"Value of cputune 'period' must be in range [1000, 1000000]"},
		{"cputune quota", edit("<os>", "<cputune><quota>999</quota></cputune><os>"), ErrConfigUnsupported,
			"Value of cputune 'quota' must be in range [1000, 18446744073709551]"},
		{"blkio duplicate", edit("<os>", "<blkiotune><device><path>/dev/a</path><weight>1</weight></device><device><path>/dev/a</path><weight>2</weight></device></blkiotune><os>"),
			ErrConfigUnsupported, "duplicate blkio device path '/dev/a'"},
		{"alias duplicate", edit("<console type='pty'/>", "<console type='pty'><alias name='ua-c'/></console><console type='pty'><alias name='ua-c'/></console>"),
			ErrConfigUnsupported, "non unique alias detected: ua-c"},
		{"clock", edit("<devices>", "<clock offset='mars'/><devices>"), ErrInternal, "unknown clock offset 'mars'"},
		{"feature", edit("<devices>", "<features><warp/></features><devices>"), ErrInternal, "unexpected feature 'warp'"},
		{"capability", edit("<devices>", "<features><capabilities><fly/></capabilities></features><devices>"),
			ErrConfigUnsupported, "unexpected capability feature 'fly'"},
		{"capability policy", edit("<devices>", "<features><capabilities policy='maybe'/></features><devices>"),
			ErrXML, "unknown policy attribute 'maybe' of feature 'capabilities'"},
		{"capability state", edit("<devices>", "<features><capabilities><mknod state='yes'/></capabilities></features><devices>"),
			ErrXML, "unknown state attribute 'yes' of feature capability 'mknod'"},
		{"ram without usage", edit("<console", "<filesystem type='ram'><target dir='/t'/></filesystem><console"),
			ErrXML, "missing 'usage' attribute for RAM filesystem"},
		{"ram usage", edit("<console", "<filesystem type='ram'><source usage='x'/><target dir='/t'/></filesystem><console"),
			ErrXML, "cannot parse usage 'x' for RAM filesystem"},
		{"ram unit", edit("<console", "<filesystem type='ram'><source usage='1' units='q'/><target dir='/t'/></filesystem><console"),
			ErrInvalidArg, "unknown suffix 'q'"},
		{"filesystem type", edit("<console", "<filesystem type='nfs'/><console"), ErrXML,
			"Invalid value for attribute 'type' in element 'filesystem': 'nfs'."},
		{"filesystem target", edit("<console", "<filesystem><source dir='/src'/></filesystem><console"),
			ErrNoTarget, "missing target information for /src"},
		{"filesystem source", edit("<console", "<filesystem><target dir='/t'/></filesystem><console"),
			ErrNoSource, "missing source information for /t"},
		{"hostdev type", edit("<console", "<hostdev mode='capabilities' type='usb'/><console"), ErrXML,
			"Invalid value for attribute 'type' in element 'hostdev': 'usb'."},
		{"mac", edit("<console", "<interface type='bridge'><mac address='zz'/><source bridge='b'/></interface><console"),
			ErrInternal, "unable to parse mac address 'zz'"},
		{"multicast mac", edit("<console", "<interface type='bridge'><mac address='01:00:00:00:00:01'/><source bridge='b'/></interface><console"),
			ErrXML, "expected unicast mac address, found multicast '01:00:00:00:00:01'"},
		{"ip address", edit("<console", "<interface type='bridge'><source bridge='b'/><ip address='10.0.0.300'/></interface><console"),
			ErrXML, "Invalid address '10.0.0.300' in <ip>"},
		{"ip prefix", edit("<console", "<interface type='bridge'><source bridge='b'/><ip address='10.0.0.3' prefix='33'/></interface><console"),
			ErrXML, "Invalid prefix value '33' in <ip>"},
		{"route gateway", edit("<console", "<interface type='bridge'><source bridge='b'/><route address='0.0.0.0'/></interface><console"),
			ErrXML, "Domain interface: Missing required gateway attribute in route definition"},
		{"console port", edit("<console type='pty'/>", "<console type='pty'><target port='x'/></console>"),
			ErrXML, "Invalid value for attribute 'port' in element 'target': 'x'"},
		{"lxc namespace feature", edit("</domain>", nsDoc("<lxc:sharepid type='pid' value='1'/>")),
			ErrConfigUnsupported, "unsupported Namespace feature: sharepid"},
		{"lxc namespace type", edit("</domain>", nsDoc("<lxc:sharenet value='red'/>")),
			ErrInternal, "No lxc environment type specified"},
		{"lxc namespace source", edit("</domain>", nsDoc("<lxc:sharenet type='file' value='red'/>")),
			ErrInternal, "Unknown LXC namespace source 'file'"},
		{"lxc namespace value", edit("</domain>", nsDoc("<lxc:sharenet type='netns'/>")),
			ErrInternal, "No lxc environment type specified"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseDomain([]byte(tc.doc), conformanceOpts)
			wantError(t, err, tc.kind, tc.msg)
		})
	}
}

// idmap returns an <idmap> whose lowest uid and gid starts are given.
func idmap(uid, gid int) string {
	return "<idmap><uid start='" + itoa(uid) + "' target='1000' count='10'/><gid start='" + itoa(gid) +
		"' target='1000' count='10'/></idmap>"
}

// nsDoc returns an <lxc:namespace> with body, closing the domain.
func nsDoc(body string) string {
	return "<lxc:namespace xmlns:lxc='" + LXCNamespace + "'>" + body + "</lxc:namespace></domain>"
}

func TestParseNotWellFormed(t *testing.T) {
	tests := []struct {
		name, doc, msg string
	}{
		{"tag mismatch", "<domain type='lxc'>\n  <name>x</domain>",
			"(domain_definition):2: Opening and ending tag mismatch: name line 2 and domain\n  <name>x</domain>\n"},
		{"empty", "", "(domain_definition):1: Document is empty\n"},
		{"unclosed", "<domain type='lxc'>\n<name>x</name>\n", "(domain_definition):3: Premature end of data in tag domain line 1\n"},
		{"extra content", "<domain type='lxc'/>\n<domain/>", "(domain_definition):2: Extra content at the end of the document\n"},
		{"text before root", "hello", "(domain_definition):1: Start tag expected, '<' not found\n"},
		{"bad attribute", "<domain type=lxc/>", "(domain_definition):1: unquoted or missing attribute value in element\n"},
		{"undefined entity", "<domain type='lxc'><name>&bogus;</name></domain>", "(domain_definition):1: invalid character entity &bogus;\n"},
		{"undeclared prefix", "<domain type='lxc'><q:name/></domain>", "(domain_definition):1: Namespace prefix q on name is not defined\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseDomain([]byte(tc.doc), conformanceOpts)
			var e *Error
			if !errors.As(err, &e) || e.Kind != ErrXMLDetail {
				t.Fatalf("error = %v, want ErrXMLDetail", err)
			}
			if !strings.HasPrefix(e.Msg, tc.msg) {
				t.Fatalf("message = %q, want prefix %q", e.Msg, tc.msg)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"filled in", baseDomain, []string{
			"<currentMemory unit='KiB'>500000</currentMemory>", "<vcpu placement='static'>1</vcpu>",
			"<type arch='x86_64'>exe</type>", "<clock offset='utc'/>", "<on_poweroff>destroy</on_poweroff>",
			"<on_reboot>restart</on_reboot>", "<on_crash>destroy</on_crash>",
			"<emulator>/usr/libexec/libvirt_lxc</emulator>", "<target type='lxc' port='0'/>"}},
		{"32-bit arch", edit("<type>exe</type>", "<type arch='i686'>exe</type>"), []string{"<type arch='i686'>exe</type>"}},
		{"given emulator", edit("<devices>", "<devices><emulator>/opt/lxc</emulator>"), []string{"<emulator>/opt/lxc</emulator>"}},
		{"uuid canonical", edit("8369f1ac-7e46-e869-4ca5-759d51478066", " 8369F1AC7E46E8694CA5759D51478066 "),
			[]string{"<uuid>8369f1ac-7e46-e869-4ca5-759d51478066</uuid>"}},
		{"current memory clamped", edit("<os>", "<currentMemory unit='GiB'>4</currentMemory><os>"),
			[]string{"<currentMemory unit='KiB'>500000</currentMemory>"}},
		{"current memory kept", edit("<os>", "<currentMemory unit='MiB'>100</currentMemory><os>"),
			[]string{"<currentMemory unit='KiB'>102400</currentMemory>"}},
		{"memory rounded up", edit("unit='KiB'>500000", "unit='b'>1025"), []string{"<memory unit='KiB'>2</memory>"}},
		{"memory in GB", edit("unit='KiB'>500000", "unit='GB'>1"), []string{"<memory unit='KiB'>976563</memory>"}},
		{"memtune", edit("<os>", "<memtune><hard_limit unit='M'>512</hard_limit><swap_hard_limit>9007199254740991</swap_hard_limit></memtune><os>"),
			[]string{"<memtune>\n    <hard_limit unit='KiB'>524288</hard_limit>\n  </memtune>"}},
		{"ram usage", edit("<console", "<filesystem type='ram'><source usage='1000' units='KB'/><target dir='/t'/></filesystem><console"),
			[]string{"<filesystem type='ram' accessmode='passthrough'>\n      <source usage='976' units='KiB'/>"}},
		{"space limit", edit("<console", "<filesystem><source dir='/s'/><target dir='/t'/><space_hard_limit unit='KiB'>2</space_hard_limit></filesystem><console"),
			[]string{"<space_hard_limit unit='bytes'>2048</space_hard_limit>"}},
		{"console ports", edit("<console type='pty'/>", "<console type='pty'/><console type='pty'/>"),
			[]string{"port='0'", "port='1'"}},
		{"capability on", edit("<devices>", "<features><capabilities><mknod/></capabilities></features><devices>"),
			[]string{"<capabilities policy='default'>\n      <mknod state='on'/>"}},
		{"default policy alone", edit("<devices>", "<features><privnet/><capabilities policy='default'/></features><devices>"),
			[]string{"<features>\n    <privnet/>\n  </features>"}},
		{"cpuset", edit("<os>", "<vcpu cpuset='3,1,2, 7'>4</vcpu><os>"), []string{"<vcpu placement='static' cpuset='1-3,7'>4</vcpu>"}},
		{"mac lower case", edit("<console", "<interface type='bridge'><mac address='52:54:00:AB:CD:EF'/><source bridge='b'/></interface><console"),
			[]string{"<mac address='52:54:00:ab:cd:ef'/>"}},
		{"generated mac", edit("<console", "<interface type='bridge'><source bridge='b'/></interface><console"),
			[]string{"<mac address='52:54:00:"}},
		{"ip family", edit("<console", "<interface type='bridge'><source bridge='b'/><ip address='2001:DB8:0:0::1'/></interface><console"),
			[]string{"<ip address='2001:db8::1' family='ipv6'/>"}},
		{"generated target dropped", edit("<console", "<interface type='bridge'><source bridge='b'/><target dev='vnet7'/></interface><console"),
			[]string{"<source bridge='b'/>\n    </interface>"}},
		{"given target kept", edit("<console", "<interface type='bridge'><source bridge='b'/><target dev='veth7'/></interface><console"),
			[]string{"<target dev='veth7'/>"}},
		{"id ignored", edit("<domain type='lxc'>", "<domain type='lxc' id='42'>"), []string{"<domain type='lxc'>\n"}},
		{"dynamic label", edit("</devices>", "</devices><seclabel type='dynamic' model='selinux'><label>x</label></seclabel>"),
			[]string{"<seclabel type='dynamic' model='selinux' relabel='yes'/>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustFormat(t, []byte(tc.doc))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestGeneratedUUID(t *testing.T) {
	doc := edit("<uuid>8369f1ac-7e46-e869-4ca5-759d51478066</uuid>", "")
	a, _, err := ParseDomain([]byte(doc), conformanceOpts)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := ParseDomain([]byte(doc), conformanceOpts)
	if err != nil {
		t.Fatal(err)
	}
	u := a.Def.UUID
	if len(u) != 36 || u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) || u == b.Def.UUID {
		t.Errorf("generated UUIDs %q, %q: want two different random (v4) UUIDs", u, b.Def.UUID)
	}
	if _, ok := parseUUID(u); !ok {
		t.Errorf("generated UUID %q does not parse", u)
	}
}

func TestFormatID(t *testing.T) {
	d, _, err := ParseDomain([]byte(baseDomain), conformanceOpts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		opts FormatOptions
		want string
	}{
		{FormatOptions{ID: 42}, "<domain type='lxc' id='42'>\n"},
		{FormatOptions{ID: 42, Inactive: true}, "<domain type='lxc'>\n"},
		{FormatOptions{}, "<domain type='lxc'>\n"},
		{FormatOptions{ID: -1}, "<domain type='lxc'>\n"},
	}
	for _, tc := range tests {
		got, err := FormatDomain(d, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("FormatDomain(%+v) starts %q, want %q", tc.opts, got[:40], tc.want)
		}
	}
}

// TestSkipValidate checks that loading a saved definition (SkipValidate)
// accepts what only define refuses, as libvirt does.
func TestSkipValidate(t *testing.T) {
	doc := edit("<devices>", idmap(1, 1)+"<devices>")
	opts := conformanceOpts
	opts.SkipValidate = true
	d, _, err := ParseDomain([]byte(doc), opts)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := FormatDomain(d, FormatOptions{Inactive: true})
	if !strings.Contains(out, "<uid start='1' target='1000' count='10'/>") {
		t.Errorf("idmap not kept:\n%s", out)
	}
	_, _, err = ParseDomain([]byte(doc), conformanceOpts)
	wantError(t, err, ErrConfigUnsupported, "You must map the root user of container")
}

// TestIDMapSorted checks that maps come back sorted by container id.
func TestIDMapSorted(t *testing.T) {
	doc := edit("<devices>", "<idmap><uid start='10' target='2000' count='5'/><uid start='0' target='1000' count='10'/>"+
		"<gid start='0' target='1000' count='10'/></idmap><devices>")
	out := mustFormat(t, []byte(doc))
	want := "<uid start='0' target='1000' count='10'/>\n    <uid start='10' target='2000' count='5'/>"
	if !strings.Contains(out, want) {
		t.Errorf("uid maps not sorted:\n%s", out)
	}
}

// TestLiveParse checks that a running domain's definition keeps its live
// parts when read with Live, and loses them otherwise.
func TestLiveParse(t *testing.T) {
	doc := edit("<console type='pty'/>", `<interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='b'/><target dev='vnet0'/><alias name='net0'/></interface>
    <console type='pty' tty='/dev/pts/3'><source path='/dev/pts/3'/><target type='lxc' port='0'/><alias name='console0'/></console>`)
	doc = strings.Replace(doc, "<domain type='lxc'>", "<domain type='lxc' id='4242'>", 1)
	live := []string{"<target dev='vnet0'/>", "<alias name='net0'/>", "<console type='pty' tty='/dev/pts/3'>",
		"<source path='/dev/pts/3'/>", "<alias name='console0'/>"}
	opts := conformanceOpts
	opts.Live = true
	d, warnings, err := ParseDomain([]byte(doc), opts)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("ParseDomain: %v %q", err, warnings)
	}
	out, _ := FormatDomain(d, FormatOptions{ID: 4242})
	for _, want := range live {
		if !strings.Contains(out, want) {
			t.Errorf("live output lacks %s:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(out, "<domain type='lxc' id='4242'>") {
		t.Errorf("live output does not start with the id:\n%s", out)
	}
	inactive, _ := FormatDomain(d, FormatOptions{ID: 4242, Inactive: true})
	d2, _, err := ParseDomain([]byte(doc), conformanceOpts)
	if err != nil {
		t.Fatal(err)
	}
	defined, _ := FormatDomain(d2, FormatOptions{ID: 4242})
	for _, text := range []string{inactive, defined} {
		for _, gone := range live {
			if strings.Contains(text, gone) {
				t.Errorf("inactive output has %s:\n%s", gone, text)
			}
		}
	}
}
