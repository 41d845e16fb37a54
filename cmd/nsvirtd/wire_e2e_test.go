package main

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

// TestVirshHostCommands drives the host-level virsh commands against a
// fresh daemon.
func TestVirshHostCommands(t *testing.T) {
	requireTool(t, "virsh", "libvirt-clients")
	d := startDaemon(t)
	host, _ := os.Hostname()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"uri"}, []string{"lxc:///system"}},
		{[]string{"version"}, []string{"Using API: LXC 9.0.0", "Running hypervisor: LXC "}},
		{[]string{"hostname"}, []string{host}},
		{[]string{"nodeinfo"}, []string{"CPU model:", "CPU(s):", "Memory size:"}},
		{[]string{"capabilities"}, []string{"<os_type>exe</os_type>", "<domain type='lxc'/>", "<model>none</model>", "<uuid>"}},
		{[]string{"sysinfo"}, []string{"<sysinfo type='smbios'>", "<processor>", "<memory_device>"}},
		{[]string{"nodememstats"}, []string{"total  :", "free   :"}},
		{[]string{"nodecpustats"}, []string{"user:", "system:", "idle:", "iowait:"}},
		{[]string{"freecell", "--all"}, []string{"0:", "Total:"}},
		{[]string{"list", "--all"}, []string{"Id", "Name", "State"}},
		{[]string{"nodecpumap"}, []string{"CPUs online:"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out := d.virsh(tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("domcapabilities is not supported", func(t *testing.T) {
		_, errOut, err := d.virshResult("domcapabilities")
		if err == nil || !strings.Contains(errOut, "this function is not supported by the connection driver: virConnectGetDomainCapabilities") {
			t.Fatalf("want NO_SUPPORT, got err=%v stderr=%s", err, errOut)
		}
	})
	t.Run("other hypervisor URI is refused", func(t *testing.T) {
		cmd := exec.Command("virsh", "-c", "qemu:///system?socket="+d.socket, "list")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "no connection driver available for qemu:///system") {
			t.Fatalf("want the QEMU URI refused, got err=%v: %s", err, out)
		}
	})
}

// TestPythonHostCalls uses python3-libvirt against the daemon.
func TestPythonHostCalls(t *testing.T) {
	d := startDaemon(t)
	out := d.python(`
import os, libvirt
c = libvirt.open(os.environ["URI"])
info = c.getInfo()
assert info[0] == os.uname().machine, info
assert info[2] == os.cpu_count(), info
caps = c.getCapabilities()
assert "<os_type>exe</os_type>" in caps
assert c.listAllDomains() == []
assert c.getType() == "LXC"
assert c.getLibVersion() >= 9000000
print("ok", info[2])
c.close()
`)
	if !strings.HasPrefix(out, "ok") {
		t.Fatalf("python: %s", out)
	}
}

// TestGoLibvirtClient connects with go-libvirt, the independent pure-Go
// implementation of the protocol.
func TestGoLibvirtClient(t *testing.T) {
	d := startDaemon(t)
	u, err := url.Parse("lxc+unix:///system?socket=" + d.socket)
	if err != nil {
		t.Fatal(err)
	}
	l, err := libvirt.ConnectToURI(u)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer l.Disconnect()
	if typ, err := l.ConnectGetType(); err != nil || typ != "LXC" {
		t.Fatalf("ConnectGetType = %q, %v", typ, err)
	}
	_, mem, cpus, _, _, _, _, _, err := l.NodeGetInfo()
	if err != nil || mem == 0 || cpus < 1 {
		t.Fatalf("NodeGetInfo: memory %d, cpus %d, %v", mem, cpus, err)
	}
	doms, _, err := l.ConnectListAllDomains(1, 0)
	if err != nil || len(doms) != 0 {
		t.Fatalf("ConnectListAllDomains = %v, %v", doms, err)
	}
	caps, err := l.ConnectGetCapabilities()
	if err != nil || !strings.Contains(caps, "<domain type='lxc'/>") {
		t.Fatalf("capabilities: %v\n%s", err, caps)
	}
	if _, err := l.ConnectGetDomainCapabilities(nil, nil, nil, nil, 0); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("domain capabilities: want not supported, got %v", err)
	}
}

// TestSecondDaemonRefused checks that a daemon does not steal a live
// socket, and that a stale socket file is replaced.
func TestSecondDaemonRefused(t *testing.T) {
	d := startDaemon(t)
	cmd := exec.Command(nsvirtdBin, "--socket", d.socket,
		"--config-dir", filepath.Join(d.dir, "other-lxc"), "--state-dir", filepath.Join(d.dir, "other-run"))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "already served by another nsvirtd") {
		t.Fatalf("second daemon: err=%v\n%s", err, out)
	}
	if _, err := os.Stat(d.socket); err != nil {
		t.Fatalf("the first daemon's socket is gone: %v", err)
	}

	d.kill() // leaves its socket and lock files behind, as a crash does
	if _, err := os.Stat(d.socket); err != nil {
		t.Fatalf("expected a stale socket after SIGKILL: %v", err)
	}
	d.start()
	if out := d.virsh("uri"); !strings.Contains(out, "lxc:///system") {
		t.Fatalf("restarted daemon: %s", out)
	}
}

// TestSocketModes checks the permissions of the two sockets.
func TestSocketModes(t *testing.T) {
	d := startDaemon(t)
	for path, want := range map[string]os.FileMode{d.socket: 0o700, d.socket + "-ro": 0o777} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", path, got, want)
		}
	}
}
