package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEnterNamespace runs commands inside containers with the stock
// `virsh lxc-enter-namespace`, which joins the namespaces that the LXC
// program's DOMAIN_OPEN_NAMESPACE hands out and the domain's cgroup.
func TestEnterNamespace(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	id := d.defineAndStart(containerSpec{name: "en1", root: root, markers: markers, netOn: true})
	waitMarker(t, markers, "en1")
	enter := func(args ...string) string {
		return d.virsh(append([]string{"lxc-enter-namespace", "en1", "--noseclabel", "--"}, args...)...)
	}
	if got := strings.TrimSpace(enter("/bin/hostname")); got != "en1" {
		t.Errorf("hostname inside: %q", got)
	}
	if got := enter("/bin/cat", "/proc/1/cmdline"); !strings.HasPrefix(got, "/sbin/init") && !strings.HasPrefix(got, "init\x00") {
		t.Errorf("PID 1 inside: %q", got)
	}
	wantContains(t, enter("/bin/cat", "/proc/self/cgroup"), fmt.Sprintf("lxc-%d-en1.libvirt-lxc", id))
	wantContains(t, enter("/bin/ls", "/sys/class/net"), "lo")
	// Without --noseclabel virsh asks for the domain's security label too.
	if got := strings.TrimSpace(d.virsh("lxc-enter-namespace", "en1", "--", "/bin/hostname")); got != "en1" {
		t.Errorf("hostname inside (with the security label): %q", got)
	}
	// The command's exit status comes back.
	_, errOut, err := d.virshResult("lxc-enter-namespace", "en1", "--noseclabel", "--", "/bin/sh", "-c", "exit 7")
	if err == nil || !strings.Contains(errOut, "status 7") {
		t.Errorf("exit 7 inside: %v %s", err, errOut)
	}
	d.virsh("destroy", "en1")
	if _, errOut, err := d.virshResult("lxc-enter-namespace", "en1", "--noseclabel", "--", "/bin/true"); err == nil || !strings.Contains(errOut, "not running") {
		t.Errorf("enter a stopped domain: %v %s", err, errOut)
	}

	// In a user namespace the command is the container's root.
	uroot := chownedRootfs(t, 200000)
	d.defineAndStart(containerSpec{name: "en2", root: uroot, markers: markers, netOn: true,
		top: "  <idmap>\n    <uid start='0' target='200000' count='65536'/>\n    <gid start='0' target='200000' count='65536'/>\n  </idmap>\n"})
	waitMarker(t, markers, "en2")
	out := d.virsh("lxc-enter-namespace", "en2", "--noseclabel", "--", "/bin/sh", "-c", "id -u; touch /root/entered && echo wrote")
	wantContains(t, out, "0\n", "wrote")
	// The file belongs to host root (the README says so) until the
	// command gives it to the host uid of the container's root.
	entered := filepath.Join(uroot, "root", "entered")
	wantOwner := func(want uint32) {
		t.Helper()
		var st syscall.Stat_t
		if err := syscall.Stat(entered, &st); err != nil || st.Uid != want {
			t.Errorf("owner of %s: %d %v, want %d", entered, st.Uid, err, want)
		}
	}
	wantOwner(0)
	d.virsh("lxc-enter-namespace", "en2", "--noseclabel", "--", "/bin/chown", "200000:200000", "/root/entered")
	wantOwner(200000)
	d.virsh("destroy", "en2")
	expectClean(t, d, root, uroot, markers)
}

// fdServer builds testdata/fdserver, a static init that serves one
// connection on the listening socket it gets as descriptor 3.
func fdServer(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "fdserver")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/fdserver")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fdserver: %v\n%s", err, out)
	}
	return bin
}

// TestPassFDs passes a listening socket to a container's init with
// `virsh start --pass-fds` and `virsh create --pass-fds` (socket
// activation) and connects to it from the host.
func TestPassFDs(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	fdServer(t, markers)
	spec := containerSpec{name: "pass1", root: root, markers: markers, init: []string{"/markers/fdserver"}}
	d.virsh("define", writeFile(t, d.dir, "pass1.xml", spec.xml()))
	for _, how := range [][]string{
		{"start", "pass1"},
		{"create", writeFile(t, d.dir, "pass2.xml", containerSpec{name: "pass2", root: root, markers: markers, init: []string{"/markers/fdserver"}}.xml())},
	} {
		sock := filepath.Join(t.TempDir(), "activation.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		ul := ln.(*net.UnixListener)
		ul.SetUnlinkOnClose(false)
		f, err := ul.File()
		ln.Close() // the duplicate in f keeps the socket listening
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("virsh", append([]string{"-c", d.uri()}, append(how, "--pass-fds", "3")...)...)
		cmd.ExtraFiles = []*os.File{f}
		out, err := cmd.CombinedOutput()
		f.Close()
		if err != nil {
			t.Fatalf("virsh %v --pass-fds 3: %v\n%s", how, err, out)
		}
		c, err := net.DialTimeout("unix", sock, 5*time.Second)
		if err != nil {
			t.Fatalf("connect to the passed socket: %v", err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if line != "hello from pid 1 LISTEN_FDS=1 LISTEN_PID=1\n" {
			t.Errorf("%v: the container's init answered %q", how, line)
		}
	}
	d.virsh("destroy", "pass1")
	d.virsh("destroy", "pass2")
	expectClean(t, d, root, markers)
}

// eventLines are virsh's lines for the full lifecycle of domain name.
func eventLines(name string) []string {
	ev := func(s string) string { return fmt.Sprintf("event 'lifecycle' for domain '%s': %s", name, s) }
	return []string{ev("Defined Added"), ev("Started Booted"), ev("Suspended Paused"), ev("Resumed Unpaused"),
		fmt.Sprintf("event 'reboot' for domain '%s'", name), ev("Stopped Shutdown"), ev("Undefined Removed")}
}

// TestEventSequence follows define → start → suspend → resume → reboot →
// shutdown → undefine with `virsh event --all --loop` and with a python
// event loop, and checks both saw every event in order.
func TestEventSequence(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	var waits []func() error
	defer func() {
		cancel()
		for _, w := range waits {
			w()
		}
	}()
	var vout lockedBuffer
	ve := exec.CommandContext(ctx, "virsh", "-c", d.uri(), "event", "--all", "--loop")
	ve.Stdout, ve.Stderr = &vout, &vout
	if err := ve.Start(); err != nil {
		t.Fatal(err)
	}
	waits = append(waits, ve.Wait)
	var pout lockedBuffer
	py := exec.CommandContext(ctx, "/usr/bin/python3", "-c", `
import libvirt, os, sys
libvirt.virEventRegisterDefaultImpl()
c = libvirt.open(os.environ["URI"])
names = {0: "Defined", 1: "Undefined", 2: "Started", 3: "Suspended", 4: "Resumed", 5: "Stopped"}
def life(conn, dom, event, detail, opaque):
    print("lifecycle", dom.name(), names.get(event, event), detail, flush=True)
def reboot(conn, dom, opaque):
    print("reboot", dom.name(), flush=True)
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, life, None)
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, reboot, None)
print("ready", flush=True)
while True:
    libvirt.virEventRunDefaultImpl()
`)
	py.Env = append(os.Environ(), "URI="+d.uri())
	py.Stdout, py.Stderr = &pout, &pout
	requireTool(t, "/usr/bin/python3", "python3-libvirt")
	if err := py.Start(); err != nil {
		t.Fatal(err)
	}
	waits = append(waits, py.Wait)
	// Both listeners are ready once they see a probe domain's definition.
	probe := writeFile(t, d.dir, "probe.xml", containerSpec{name: "probe", root: root}.xml())
	defined := false
	waitFor(t, "both event listeners", 20*time.Second, func() bool {
		if defined {
			d.virsh("undefine", "probe")
		} else {
			d.virsh("define", probe)
		}
		defined = !defined
		return strings.Contains(vout.String(), "domain 'probe': Defined") && strings.Contains(pout.String(), "lifecycle probe Defined")
	})

	d.virsh("define", writeFile(t, d.dir, "ev1.xml", containerSpec{name: "ev1", root: root, markers: markers}.xml()))
	d.virsh("start", "ev1")
	waitMarker(t, markers, "ev1")
	d.virsh("suspend", "ev1")
	d.virsh("resume", "ev1")
	os.Remove(filepath.Join(markers, "ev1.ready"))
	d.virsh("reboot", "ev1")
	waitMarker(t, markers, "ev1")
	d.virsh("shutdown", "ev1")
	waitFor(t, "ev1 to shut down", 15*time.Second, func() bool {
		return strings.Contains(d.virsh("domstate", "ev1"), "shut off")
	})
	d.virsh("undefine", "ev1")

	want := eventLines("ev1")
	waitFor(t, "virsh event to see the undefine", 10*time.Second, func() bool { return strings.Contains(vout.String(), want[len(want)-1]) })
	inOrder(t, "virsh event", vout.String(), want)
	pyWant := []string{"lifecycle ev1 Defined 0", "lifecycle ev1 Started 0", "lifecycle ev1 Suspended 0",
		"lifecycle ev1 Resumed 0", "reboot ev1", "lifecycle ev1 Stopped 0", "lifecycle ev1 Undefined 0"}
	waitFor(t, "python to see the undefine", 10*time.Second, func() bool { return strings.Contains(pout.String(), pyWant[len(pyWant)-1]) })
	inOrder(t, "python", pout.String(), pyWant)
	expectClean(t, d, root, markers)
}

// inOrder checks that out holds the lines of want in that order.
func inOrder(t *testing.T, who, out string, want []string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s: %q missing or out of order in:\n%s", who, w, out)
			return
		}
		rest = rest[i+len(w):]
	}
}

// TestVirtInstall creates a container with virt-install, as its users do.
func TestVirtInstall(t *testing.T) {
	requireTool(t, "virt-install", "virtinst")
	root := busyboxRootfs(t)
	d := startDaemon(t)
	out, err := exec.Command("virt-install", "--connect", d.uri(), "--name", "vi1", "--memory", "64",
		"--filesystem", root+",/", "--init", "/sbin/init", "--network", "none", "--noautoconsole").CombinedOutput()
	if err != nil {
		t.Fatalf("virt-install: %v\n%s", err, out)
	}
	wantContains(t, d.virsh("dominfo", "vi1"), "State:          running", "Persistent:     yes", "Max memory:     65536 KiB")
	x := d.virsh("dumpxml", "vi1")
	if !regexp.MustCompile(`<source dir='`+regexp.QuoteMeta(root)+`'/>`).MatchString(x) || !strings.Contains(x, "<init>/sbin/init</init>") {
		t.Errorf("virt-install's domain:\n%s", x)
	}
	d.virsh("destroy", "vi1")
	d.virsh("undefine", "vi1")
	expectClean(t, d, root)
}
