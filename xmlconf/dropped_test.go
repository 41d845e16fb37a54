package xmlconf

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestDroppedContent checks the detection of content the model would
// drop: without Validate it is dropped and reported as warnings, with
// Validate it is an ErrSchema error naming every item.
func TestDroppedContent(t *testing.T) {
	fs := func(body string) string {
		return edit("<console", "<filesystem type='mount'><source dir='/s'/><target dir='/t'/>"+body+"</filesystem><console")
	}
	tests := []struct {
		name  string
		doc   string
		items []string
		kept  string // must still be in the output
		gone  string // must not be in the output
	}{
		{"element", fs("<bogus/>"), []string{"element 'bogus' is not allowed in /domain/devices/filesystem"}, "<target dir='/t'/>", "bogus"},
		{"element with content", fs("<bogus a='1'><x/></bogus>"),
			[]string{"element 'bogus' is not allowed in /domain/devices/filesystem"}, "", "bogus"},
		{"attribute", edit("<console", "<filesystem type='mount'><source dir='/s' typo='1'/><target dir='/t'/></filesystem><console"),
			[]string{"attribute 'typo' is not allowed in /domain/devices/filesystem/source"}, "<source dir='/s'/>", "typo"},
		{"root attribute", edit("<domain type='lxc'>", "<domain type='lxc' colour='red'>"),
			[]string{"attribute 'colour' is not allowed in /domain"}, "", "colour"},
		{"top element", edit("<os>", "<bogus>1</bogus><os>"), []string{"element 'bogus' is not allowed in /domain"}, "", "bogus"},
		{"text", edit("<devices>", "<features><privnet>yes</privnet></features><devices>"),
			[]string{"text 'yes' is not allowed in /domain/features/privnet"}, "<privnet/>", "yes"},
		{"several", fs("<a/><b/>") + "", []string{
			"element 'a' is not allowed in /domain/devices/filesystem",
			"element 'b' is not allowed in /domain/devices/filesystem"}, "", "<a/>"},
		{"foreign namespace", edit("</domain>", "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-x'/></qemu:commandline></domain>"),
			[]string{"element 'qemu:commandline' is not allowed in /domain"}, "", "qemu"},
		{"foreign attribute", edit("<domain type='lxc'>", "<domain type='lxc' xmlns:f='urn:f' f:x='1'>"),
			[]string{"attribute 'f:x' is not allowed in /domain"}, "", "urn:f"},
		{"repeated single element", edit("<name>demo</name>", "<name>demo</name><name>other</name>"),
			[]string{"element 'name' is not allowed in /domain"}, "<name>demo</name>", "other"},
		{"route typo", edit("<console", "<interface type='bridge'><source bridge='b'/><route address='0.0.0.0' gateway='1.2.3.4' gw='x'/></interface><console"),
			[]string{"attribute 'gw' is not allowed in /domain/devices/interface/route"}, "gateway='1.2.3.4'", "gw="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, warnings, err := ParseDomain([]byte(tc.doc), conformanceOpts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(warnings, tc.items) {
				t.Errorf("warnings = %q, want %q", warnings, tc.items)
			}
			out, err := FormatDomain(d, FormatOptions{Inactive: true})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tc.kept) || strings.Contains(out, tc.gone) {
				t.Errorf("output should keep %q and drop %q:\n%s", tc.kept, tc.gone, out)
			}
			opts := conformanceOpts
			opts.Validate = true
			_, _, err = ParseDomain([]byte(tc.doc), opts)
			var e *Error
			if !errors.As(err, &e) || e.Kind != ErrSchema {
				t.Fatalf("with Validate: error = %v, want ErrSchema", err)
			}
			if !slices.Equal(e.Items, tc.items) {
				t.Errorf("with Validate: items = %q, want %q", e.Items, tc.items)
			}
			if want := "XML document failed to validate against schema: " + strings.Join(tc.items, "; "); e.Msg != want {
				t.Errorf("with Validate: message = %q, want %q", e.Msg, want)
			}
		})
	}
}

// TestNothingDropped checks that documents using every LXC feature of the
// reference list come back without warnings or schema errors.
func TestNothingDropped(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"all features", allFeaturesDomain},
		{"zero values", edit("<os>", "<blkiotune><weight>0</weight></blkiotune><os>")},
		{"empty elements", edit("<os>", "<title></title><description/><os>")},
		{"id", edit("<domain type='lxc'>", "<domain type='lxc' id='7'>")},
		{"namespace none", edit("</domain>", nsDoc("<lxc:shareipc type='none' value=''/>"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := conformanceOpts
			opts.Validate = true
			_, warnings, err := ParseDomain([]byte(tc.doc), opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) > 0 {
				t.Errorf("warnings: %q", warnings)
			}
		})
	}
}

// TestMetadataDrops checks that the metadata libvirt drops silently
// (children without a namespace, repeated namespaces) gives warnings but
// never a schema error: libvirt's schema allows any element there.
func TestMetadataDrops(t *testing.T) {
	doc := edit("<memory", `<metadata><plain/><a:x xmlns:a="urn:a"/><a:y xmlns:a="urn:a"/></metadata><memory`)
	opts := conformanceOpts
	opts.Validate = true
	d, warnings, err := ParseDomain([]byte(doc), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"element 'plain' in /domain/metadata has no namespace; libvirt drops it",
		"element 'a:y' in /domain/metadata repeats namespace 'urn:a'; libvirt keeps only the first",
	}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
	out, _ := FormatDomain(d, FormatOptions{Inactive: true})
	if !strings.Contains(out, "  <metadata>\n    <a:x xmlns:a=\"urn:a\"/>\n  </metadata>\n") {
		t.Errorf("metadata not as libvirt writes it:\n%s", out)
	}
}

// allFeaturesDomain uses every element of the XML feature list of the
// libvirt LXC reference.
const allFeaturesDomain = `<domain type='lxc' xmlns:lxc='http://libvirt.org/schemas/domain/lxc/1.0'>
  <name>all</name>
  <uuid>e21987a5-e98e-9c99-0e35-803e4d9ad1fe</uuid>
  <title>Everything</title>
  <description>All the features</description>
  <metadata>
    <app:data xmlns:app='http://example.org/app'><app:item key='k'>v</app:item></app:data>
  </metadata>
  <memory unit='MiB'>512</memory>
  <currentMemory unit='MiB'>256</currentMemory>
  <blkiotune>
    <weight>500</weight>
    <device><path>/dev/sda</path><weight>100</weight><read_iops_sec>10</read_iops_sec><write_iops_sec>20</write_iops_sec><read_bytes_sec>30</read_bytes_sec><write_bytes_sec>40</write_bytes_sec></device>
  </blkiotune>
  <memtune>
    <hard_limit unit='MiB'>512</hard_limit>
    <soft_limit unit='MiB'>256</soft_limit>
    <swap_hard_limit unit='GiB'>1</swap_hard_limit>
    <min_guarantee unit='MiB'>64</min_guarantee>
  </memtune>
  <vcpu placement='static' cpuset='0-1' current='1'>2</vcpu>
  <cputune>
    <shares>1024</shares>
    <period>100000</period>
    <quota>50000</quota>
  </cputune>
  <numatune>
    <memory mode='strict' nodeset='0'/>
  </numatune>
  <resource>
    <partition>/machine</partition>
  </resource>
  <sysinfo type='smbios'>
    <system>
      <entry name='manufacturer'>Example</entry>
    </system>
  </sysinfo>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/sbin/init</init>
    <initarg>--log-level=info</initarg>
    <initenv name='LANG'>C</initenv>
    <initdir>/</initdir>
    <inituser>root</inituser>
    <initgroup>root</initgroup>
    <cmdline>quiet</cmdline>
  </os>
  <idmap>
    <uid start='0' target='100000' count='65536'/>
    <gid start='0' target='100000' count='65536'/>
  </idmap>
  <features>
    <privnet/>
    <capabilities policy='default'>
      <mknod state='on'/>
      <sys_time state='off'/>
    </capabilities>
  </features>
  <clock offset='localtime'>
    <timer name='rtc' present='yes'/>
    <timer name='hpet' present='no'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>restart</on_crash>
  <devices>
    <emulator>/usr/libexec/libvirt_lxc</emulator>
    <disk type='block' device='disk'>
      <source dev='/dev/sdb'/>
      <target dev='sdb' bus='virtio'/>
    </disk>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/srv/root'/>
      <target dir='/'/>
    </filesystem>
    <filesystem type='bind'>
      <source dir='/data'/>
      <target dir='/mnt/data'/>
      <readonly/>
    </filesystem>
    <filesystem type='block'>
      <source dev='/dev/sdc1'/>
      <target dir='/mnt/disk'/>
    </filesystem>
    <filesystem type='file'>
      <driver type='loop' format='raw'/>
      <source file='/images/a.img'/>
      <target dir='/mnt/image'/>
    </filesystem>
    <filesystem type='ram'>
      <source usage='64' units='MiB'/>
      <target dir='/tmp'/>
    </filesystem>
    <interface type='bridge'>
      <mac address='00:16:3e:0f:ef:8a'/>
      <source bridge='br0'/>
      <bandwidth>
        <inbound average='1000' peak='5000' burst='1024'/>
        <outbound average='128' peak='256' burst='256'/>
      </bandwidth>
      <ip address='192.168.122.12' family='ipv4' prefix='24'/>
      <route family='ipv4' address='0.0.0.0' prefix='0' gateway='192.168.122.1'/>
      <target dev='veth0'/>
      <guest dev='eth0'/>
      <link state='up'/>
    </interface>
    <interface type='network'>
      <mac address='00:16:3e:0f:ef:8b'/>
      <source network='default'/>
    </interface>
    <interface type='ethernet'>
      <mac address='00:16:3e:0f:ef:8c'/>
      <source>
        <ip address='192.168.123.1' family='ipv4' prefix='32' peer='192.168.123.2'/>
        <route family='ipv4' address='192.168.124.0' prefix='24' gateway='192.168.123.2'/>
      </source>
      <ip address='192.168.123.2' family='ipv4' prefix='32' peer='192.168.123.1'/>
    </interface>
    <interface type='direct'>
      <mac address='00:16:3e:0f:ef:8d'/>
      <source dev='eth1' mode='vepa'/>
    </interface>
    <console type='pty'>
      <log file='/var/log/all.log' append='on'/>
      <target type='lxc' port='0'/>
    </console>
    <hostdev mode='capabilities' type='storage'>
      <source>
        <block>/dev/sdf1</block>
      </source>
    </hostdev>
    <hostdev mode='capabilities' type='misc'>
      <source>
        <char>/dev/tty0</char>
      </source>
    </hostdev>
    <hostdev mode='capabilities' type='net'>
      <source>
        <interface>eth2</interface>
      </source>
      <ip address='10.1.1.2' family='ipv4' prefix='24'/>
      <route family='ipv4' address='10.2.0.0' prefix='16' gateway='10.1.1.1'/>
    </hostdev>
  </devices>
  <seclabel type='static' model='selinux' relabel='no'>
    <label>system_u:system_r:svirt_lxc_net_t:s0:c1,c2</label>
  </seclabel>
  <lxc:namespace>
    <lxc:sharenet type='netns' value='red'/>
    <lxc:shareipc type='pid' value='12345'/>
    <lxc:shareuts type='name' value='other'/>
  </lxc:namespace>
</domain>
`

// TestAllFeaturesRoundTrip checks that the all-features document is kept
// whole: formatting it gives libvirt's normalisation of it, and formatting
// that again changes nothing.
func TestAllFeaturesRoundTrip(t *testing.T) {
	first := mustFormat(t, []byte(allFeaturesDomain))
	for _, want := range []string{
		"<memory unit='KiB'>524288</memory>",
		"<filesystem type='bind' accessmode='passthrough'>",
		"<source usage='65536' units='KiB'/>",
		"<route family='ipv4' address='0.0.0.0' prefix='0' gateway='192.168.122.1'/>",
		"<route family='ipv4' address='10.2.0.0' prefix='16' gateway='10.1.1.1'/>",
		"<route family='ipv4' address='192.168.124.0' prefix='24' gateway='192.168.123.2'/>",
		"    <app:data xmlns:app=\"http://example.org/app\">\n      <app:item key=\"k\">v</app:item>\n    </app:data>\n",
		"<label>system_u:system_r:svirt_lxc_net_t:s0:c1,c2</label>",
		"<lxc:shareuts type='name' value='other'/>",
		"<log file='/var/log/all.log' append='on'/>\n      <target type='lxc' port='0'/>",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("output lacks %q:\n%s", want, first)
		}
	}
	if second := mustFormat(t, []byte(first)); second != first {
		t.Errorf("not idempotent:\n%s", lineDiff(first, second))
	}
}
