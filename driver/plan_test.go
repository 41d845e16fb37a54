package driver

import (
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/nsvirt/nsvirt/driver/container"
	"github.com/nsvirt/nsvirt/xmlconf"
)

func planOf(t *testing.T, xml string) (*startPlan, error) {
	t.Helper()
	def, _, err := xmlconf.ParseDomain([]byte(xml), xmlconf.ParseOptions{Emulator: "/x", HostArch: "x86_64"})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return planStart(def.Def)
}

func domainWith(body, devices string) string {
	return "<domain type='lxc'><name>p1</name><memory unit='MiB'>64</memory>" +
		"<os><type>exe</type><init>/sbin/init</init><initarg>-v</initarg></os>" + body +
		"<devices>" + devices + "<console type='pty'/></devices></domain>"
}

func TestPlanNamespacesAndRoot(t *testing.T) {
	p, err := planOf(t, domainWith("<features><privnet/></features>",
		"<filesystem type='mount'><source dir='/srv/r'/><target dir='/'/><readonly/></filesystem>"+
			"<filesystem type='ram'><source usage='2' units='MiB'/><target dir='/tmp'/></filesystem>"))
	if err != nil {
		t.Fatal(err)
	}
	want := uintptr(syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET)
	if p.clone != want || !p.init.NetNS {
		t.Errorf("clone flags %#x, want %#x", p.clone, want)
	}
	if p.init.Root != (container.Root{Source: "/srv/r", ReadOnly: true}) {
		t.Errorf("root %+v", p.init.Root)
	}
	if len(p.init.Mounts) != 1 || p.init.Mounts[0].Kind != container.MountTmpfs || p.init.Mounts[0].Size != 2<<20 {
		t.Errorf("mounts %+v", p.init.Mounts)
	}
	if !slices.Equal(p.init.Init, []string{"/sbin/init", "-v"}) || p.init.Hostname != "p1" {
		t.Errorf("init %v hostname %q", p.init.Init, p.init.Hostname)
	}
	shared, err := planOf(t, domainWith("", ""))
	if err != nil {
		t.Fatal(err)
	}
	if shared.clone&syscall.CLONE_NEWNET != 0 || shared.init.Root.Source != "/" {
		t.Errorf("no interfaces and no privnet must share the host network and root: %#x %+v", shared.clone, shared.init.Root)
	}
}

func TestPlanSharedNamespaces(t *testing.T) {
	ns := "<lxc:namespace><lxc:sharenet type='netns' value='red'/><lxc:shareuts type='name' value='c2'/></lxc:namespace>"
	xml := strings.Replace(domainWith("", "")+"", "<domain type='lxc'>", "<domain type='lxc' xmlns:lxc='http://libvirt.org/schemas/domain/lxc/1.0'>", 1)
	xml = strings.Replace(xml, "</domain>", ns+"</domain>", 1)
	p, err := planOf(t, xml)
	if err != nil {
		t.Fatal(err)
	}
	if p.shareNet != "netns:red" || p.shareUTS != "name:c2" || p.clone&syscall.CLONE_NEWUTS != 0 || p.init.Hostname != "" {
		t.Errorf("plan %+v clone %#x", p, p.clone)
	}
	bad := strings.Replace(xml, "<devices>", "<devices><interface type='ethernet'/>", 1)
	if _, err := planOf(t, bad); KindOf(err) != KindConfigUnsupported {
		t.Errorf("sharenet with an interface: %v", err)
	}
}

func TestPlanCapabilities(t *testing.T) {
	tests := []struct {
		features   string
		keep, drop []string
	}{
		{"", []string{"sys_admin", "sys_boot", "net_admin", "sys_rawio"},
			[]string{"sys_module", "sys_time", "mknod", "audit_control", "mac_admin"}},
		{"<capabilities policy='default'><sys_time state='on'/><net_raw state='off'/></capabilities>",
			[]string{"sys_time", "sys_admin"}, []string{"net_raw", "mknod"}},
		{"<capabilities policy='allow'><mknod state='off'/></capabilities>",
			[]string{"sys_module", "sys_time", "audit_control"}, []string{"mknod"}},
		{"<capabilities policy='deny'><chown state='on'/><kill/></capabilities>",
			[]string{"chown", "kill"}, []string{"sys_admin", "setuid", "net_admin"}},
	}
	for _, tt := range tests {
		p, err := planOf(t, domainWith("<features>"+tt.features+"</features>", ""))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range tt.keep {
			if !slices.Contains(p.init.Caps, c) {
				t.Errorf("%s: %s dropped", tt.features, c)
			}
		}
		for _, c := range tt.drop {
			if slices.Contains(p.init.Caps, c) {
				t.Errorf("%s: %s kept", tt.features, c)
			}
		}
	}
}

func TestPlanIDMapAndEnv(t *testing.T) {
	p, err := planOf(t, domainWith("<idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='200000' count='65536'/></idmap>",
		"<console type='pty'/>"))
	if err != nil {
		t.Fatal(err)
	}
	if p.clone&syscall.CLONE_NEWUSER == 0 || p.init.RootUID != 100000 || p.init.RootGID != 200000 {
		t.Errorf("user namespace plan: clone %#x root %d:%d", p.clone, p.init.RootUID, p.init.RootGID)
	}
	for _, want := range []string{"PATH=/bin:/sbin", "container=lxc-libvirt", "LIBVIRT_LXC_NAME=p1", "container_ttys=pts/1"} {
		if !slices.Contains(p.init.Env, want) {
			t.Errorf("env lacks %s: %v", want, p.init.Env)
		}
	}
}

func TestPlanRefusals(t *testing.T) {
	noConsole := strings.Replace(domainWith("", ""), "<console type='pty'/>", "", 1)
	if _, err := planOf(t, noConsole); err == nil || !strings.Contains(err.Error(), "At least one PTY console is required") {
		t.Errorf("no console: %v", err)
	}
	qcow := domainWith("", "<filesystem type='file'><driver type='nbd' format='qcow2'/><source file='/x.qcow2'/><target dir='/mnt'/></filesystem>")
	if _, err := planOf(t, qcow); KindOf(err) != KindConfigUnsupported {
		t.Errorf("qcow2 image: %v", err)
	}
}

func TestHostname(t *testing.T) {
	for in, want := range map[string]string{"web-1": "web-1", "-a_b.c": "abc", "über": "ber"} {
		if got := Hostname(in); got != want {
			t.Errorf("Hostname(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInitSignals(t *testing.T) {
	tests := []struct {
		kind   initType
		reboot bool
		want   syscall.Signal
	}{
		{initSystemd, false, 38}, {initSystemd, true, 39},
		{initBusybox, false, syscall.SIGUSR2}, {initBusybox, true, syscall.SIGTERM},
		{initOther, false, syscall.SIGTERM}, {initOther, true, syscall.SIGTERM},
	}
	for _, tt := range tests {
		if got := initSignal(tt.kind, tt.reboot); got != tt.want {
			t.Errorf("initSignal(%d, %v) = %d, want %d", tt.kind, tt.reboot, got, tt.want)
		}
	}
}
