package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSystemContainer starts a busybox system container and inspects it
// from the host: hostname, PID 1, mounts and their flags, /dev, dropped
// capabilities, its own cgroup view, environment, private network.
func TestSystemContainer(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	id := d.defineAndStart(containerSpec{name: "sys1", root: root, markers: markers, netOn: true})
	waitMarker(t, markers, "sys1")
	wantContains(t, d.virsh("domstate", "--reason", "sys1"), "running (booted)")

	if got := strings.TrimSpace(inside(t, id, false, "hostname")); got != "sys1" {
		t.Errorf("hostname %q", got)
	}
	if got := inside(t, id, false, "cat /proc/1/cmdline | tr '\\0' ' '"); !strings.HasPrefix(got, "/sbin/init") && !strings.HasPrefix(got, "init") {
		t.Errorf("PID 1 is %q", got)
	}
	mounts := inside(t, id, false, "cat /proc/1/mountinfo")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m) /proc rw,nosuid,nodev,noexec\S* - proc `),
		regexp.MustCompile(`(?m) /proc/sys ro,`),
		regexp.MustCompile(`(?m) /proc/sys/net/ipv4 rw,`),
		regexp.MustCompile(`(?m) /sys ro,.* - sysfs `),
		regexp.MustCompile(`(?m) /dev rw,nosuid\S* - tmpfs .*size=64k`),
		regexp.MustCompile(`(?m) /dev/pts rw,.* - devpts .*ptmxmode=666`),
		regexp.MustCompile(`(?m) /dev/shm rw,.* - tmpfs `),
		regexp.MustCompile(`(?m) /dev/console rw,.* - devpts `),
		regexp.MustCompile(`(?m) /sys/fs/cgroup/memory rw,.* - cgroup `),
		regexp.MustCompile(`(?m) /markers rw,`),
	} {
		if !want.MatchString(mounts) {
			t.Errorf("mountinfo lacks %s:\n%s", want, mounts)
		}
	}
	devs := inside(t, id, false, "ls -l /dev | awk '{print $1, $5, $6, $NF}'")
	for _, want := range []string{"crw-rw-rw- 1, 3 null", "crw-rw-rw- 1, 5 zero", "crw-rw-rw- 1, 7 full",
		"crw-rw-rw- 1, 8 random", "crw-rw-rw- 1, 9 urandom", "crw-rw-rw- 5, 0 tty", "pts/ptmx"} {
		if !strings.Contains(devs, want) {
			t.Errorf("/dev lacks %q:\n%s", want, devs)
		}
	}
	wantContains(t, inside(t, id, false, "grep CapBnd /proc/1/status"), "000001fdb4feffff")
	if out := inside(t, id, false, "ls /sys/fs/cgroup/memory"); strings.Contains(out, "machine") || !strings.Contains(out, "memory.limit_in_bytes") {
		t.Errorf("/sys/fs/cgroup/memory inside shows more than the container's own cgroup:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(inside(t, id, false, "cat /proc/1/cgroup")), "\n") {
		if !strings.HasSuffix(line, ":/") {
			t.Errorf("init's cgroup inside is not the namespace root: %q", line)
		}
	}
	env := inside(t, id, false, "tr '\\0' '\\n' < /proc/1/environ")
	uuid := strings.TrimSpace(d.virsh("domuuid", "sys1"))
	wantContains(t, env, "PATH=/bin:/sbin", "container=lxc-libvirt", "LIBVIRT_LXC_NAME=sys1", "LIBVIRT_LXC_UUID="+uuid)
	if links := inside(t, id, false, "ls /sys/class/net"); strings.TrimSpace(links) != "lo" {
		t.Errorf("privnet container has links %q", links)
	}
	if out := inside(t, id, false, "echo x > /proc/sys/kernel/hostname 2>&1; echo rc=$?"); !strings.Contains(out, "rc=1") {
		t.Errorf("writing /proc/sys/kernel/hostname inside did not fail: %s", out)
	}
	host, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", id))
	if !strings.Contains(string(host), fmt.Sprintf("/machine/lxc-%d-sys1.libvirt-lxc", id)) {
		t.Errorf("domain ID %d is not in the domain's cgroup:\n%s", id, host)
	}
	start := time.Now()
	d.virsh("destroy", "sys1")
	t.Logf("destroy took %v", time.Since(start))
	wantContains(t, d.virsh("domstate", "--reason", "sys1"), "shut off (destroyed)")
	expectClean(t, d, root, markers)
}

// TestApplicationContainer runs a container that shares the host's root
// file system, with its own /proc, /dev and PID namespace.
func TestApplicationContainer(t *testing.T) {
	requireRoot(t)
	d := startDaemon(t)
	markers := markerDir(t)
	id := d.defineAndStart(containerSpec{name: "app1", init: []string{"/bin/sh", "-c",
		"echo up > " + markers + "/app1.ready; exec sleep 1000"}})
	waitMarker(t, markers, "app1")
	if got := strings.TrimSpace(inside(t, id, false, "hostname")); got != "app1" {
		t.Errorf("hostname %q", got)
	}
	if got, _ := strconv.Atoi(strings.TrimSpace(inside(t, id, false, "ls /proc | grep -c '^[0-9]'"))); got > 6 {
		t.Errorf("the container sees %d processes: its /proc is not its own", got)
	}
	if out := inside(t, id, false, "ls /dev"); strings.Contains(out, "vda") || !strings.Contains(out, "null") {
		t.Errorf("/dev is not private:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(markers, "app1.ready")); err != nil {
		t.Errorf("the shared host tree is not visible: %v", err)
	}
	d.virsh("destroy", "app1")
	expectClean(t, d, markers)
}

// TestInitOptions checks <initarg>, <initenv>, <initdir>, <inituser> and
// <initgroup>.
func TestInitOptions(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	d.defineAndStart(containerSpec{
		name: "initopt", root: root, markers: markers,
		init: []string{"/bin/sh", "-c", `echo "dir=$(pwd) foo=$FOO uid=$(id -u) gid=$(id -g) groups=$(id -G) args=$0" > /markers/initopt.env; echo up > /markers/initopt.ready; exec sleep 1000`, "argzero"},
		os:   "    <initenv name='FOO'>bar baz</initenv>\n    <initdir>/tmp</initdir>\n    <inituser>user</inituser>\n    <initgroup>users</initgroup>\n",
	})
	waitMarker(t, markers, "initopt")
	b, _ := os.ReadFile(filepath.Join(markers, "initopt.env"))
	want := "dir=/tmp foo=bar baz uid=1000 gid=100 groups=100 args=argzero"
	if got := strings.TrimSpace(string(b)); !strings.HasPrefix(got, "dir=/tmp foo=bar baz uid=1000 gid=100 groups=100") || !strings.HasSuffix(got, "args=argzero") {
		t.Errorf("init saw %q, want %q", got, want)
	}
	d.virsh("destroy", "initopt")
	expectClean(t, d, root, markers)
}

// chownedRootfs returns a copy of the busybox root owned by uid/gid.
func chownedRootfs(t *testing.T, id int) string {
	t.Helper()
	src := busyboxRootfs(t)
	// The container's root user must be able to reach its root: the
	// test's own temporary directory is private to host root.
	dir, err := os.MkdirTemp("", "nsvirt-userns-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	dst := filepath.Join(dir, "rootfs")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v %s", err, out)
	}
	if out, err := exec.Command("chown", "-R", strconv.Itoa(id)+":"+strconv.Itoa(id), dst).CombinedOutput(); err != nil {
		t.Fatalf("chown rootfs: %v %s", err, out)
	}
	return dst
}

// TestIDMap runs a container in its own user namespace.
func TestIDMap(t *testing.T) {
	root := chownedRootfs(t, 100000)
	d := startDaemon(t)
	markers := markerDir(t)
	id := d.defineAndStart(containerSpec{name: "userns1", root: root, markers: markers, netOn: true,
		top: "  <idmap>\n    <uid start='0' target='100000' count='65536'/>\n    <gid start='0' target='100000' count='65536'/>\n  </idmap>\n"})
	waitMarker(t, markers, "userns1")
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", id))
	if !regexp.MustCompile(`(?m)^Uid:\s+100000\s`).Match(status) {
		t.Errorf("init does not run as host uid 100000:\n%s", status)
	}
	if m := inside(t, id, true, "cat /proc/1/uid_map"); !regexp.MustCompile(`^\s*0\s+100000\s+65536`).MatchString(m) {
		t.Errorf("uid_map %q", m)
	}
	wantContains(t, inside(t, id, true, "id -u; touch /root/x && echo writable"), "0\n", "writable")
	d.virsh("destroy", "userns1")
	expectClean(t, d, root, markers)
}

// ext4Image makes a small ext4 image holding a file named hello.
func ext4Image(t *testing.T, dir string) string {
	t.Helper()
	requireTool(t, "mkfs.ext4", "e2fsprogs")
	img := filepath.Join(dir, "img.raw")
	content := filepath.Join(dir, "content")
	os.MkdirAll(content, 0o755)
	os.WriteFile(filepath.Join(content, "hello"), []byte("from the image\n"), 0o644)
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-d", content, img, "8M").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v %s", err, out)
	}
	return img
}

// TestFilesystems mounts every <filesystem> type: a read-only bind, a
// bind inside the root, a sized tmpfs, a raw image through a loop device
// and a block device; the loop devices are released at stop.
func TestFilesystems(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	work := t.TempDir()
	bindsrc := filepath.Join(work, "bindsrc")
	os.MkdirAll(bindsrc, 0o755)
	os.WriteFile(filepath.Join(bindsrc, "data"), []byte("bound\n"), 0o644)
	img := ext4Image(t, work)
	blockImg := filepath.Join(work, "block.raw")
	exec.Command("cp", img, blockImg).Run()
	out, err := exec.Command("losetup", "--find", "--show", blockImg).Output()
	if err != nil {
		t.Fatalf("losetup: %v", err)
	}
	blockDev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", blockDev).Run() })

	extra := fmt.Sprintf(`    <filesystem type='mount'><source dir='%s'/><target dir='/data'/><readonly/></filesystem>
    <filesystem type='bind'><source dir='/etc'/><target dir='/etc2'/></filesystem>
    <filesystem type='ram'><source usage='16' units='MiB'/><target dir='/scratch'/></filesystem>
    <filesystem type='file'><driver type='loop' format='raw'/><source file='%s'/><target dir='/img'/></filesystem>
    <filesystem type='block'><source dev='%s'/><target dir='/blk'/><readonly/></filesystem>
`, bindsrc, img, blockDev)
	id := d.defineAndStart(containerSpec{name: "fs1", root: root, markers: markers, extra: extra})
	waitMarker(t, markers, "fs1")
	check := inside(t, id, false, `cat /data/data; touch /data/x 2>/dev/null || echo data-ro;
		ls /etc2/inittab; cat /img/hello; cat /blk/hello; touch /blk/x 2>/dev/null || echo blk-ro;
		df -k /scratch | tail -1 | awk '{print "scratch=" $2}'; grep -c ' /img ' /proc/mounts`)
	wantContains(t, check, "bound", "data-ro", "/etc2/inittab", "from the image\nfrom the image", "blk-ro", "scratch=16384")
	loops, _ := exec.Command("losetup", "-j", img).Output()
	if !strings.Contains(string(loops), img) {
		t.Errorf("no loop device backs %s while the container runs", img)
	}
	d.virsh("destroy", "fs1")
	waitFor(t, "the image's loop device to be released", 10*time.Second, func() bool {
		out, _ := exec.Command("losetup", "-j", img).Output()
		return len(strings.TrimSpace(string(out))) == 0
	})
	expectClean(t, d, root, markers, img)
}

// TestShutdownAndReboot drives busybox init through every mode.
func TestShutdownAndReboot(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	id := d.defineAndStart(containerSpec{name: "bb", root: root, markers: markers})
	waitMarker(t, markers, "bb")
	ready := filepath.Join(markers, "bb.ready")

	for _, mode := range []string{"default", "signal"} {
		os.Remove(ready)
		args := []string{"reboot", "bb"}
		if mode != "default" {
			args = append(args, "--mode", mode)
		}
		wantContains(t, d.virsh(args...), "is being rebooted")
		waitMarker(t, markers, "bb")
		newID := d.domid("bb")
		if newID == id {
			t.Errorf("reboot (%s mode) did not restart init (id %d)", mode, id)
		}
		id = newID
		wantContains(t, d.virsh("domstate", "--reason", "bb"), "running (booted)")
	}
	_, errOut, err := d.virshResult("shutdown", "bb", "--mode", "initctl")
	if err == nil || !strings.Contains(errOut, "Container does not provide an initctl pipe") {
		t.Errorf("initctl mode without a FIFO: err=%v %s", err, errOut)
	}
	for _, mode := range []string{"default", "signal"} {
		args := []string{"shutdown", "bb"}
		if mode != "default" {
			args = append(args, "--mode", mode)
		}
		wantContains(t, d.virsh(args...), "is being shutdown")
		waitFor(t, "shutdown ("+mode+" mode)", 15*time.Second, func() bool {
			return strings.Contains(d.virsh("domstate", "--reason", "bb"), "shut off (shutdown)")
		})
		if mode == "default" {
			os.Remove(ready)
			d.virsh("start", "bb")
			waitMarker(t, markers, "bb")
		}
	}
	expectClean(t, d, root, markers)
}

// TestInitctlAndOtherInits covers the initctl FIFO convention and an init
// with no convention at all (SIGTERM, then SIGKILL after the grace time).
func TestInitctlAndOtherInits(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t, "--shutdown-timeout", "1s")
	markers := markerDir(t)
	// A sysvinit stand-in: it waits on /run/initctl and records the
	// runlevel request it receives.
	fifoInit := `mkfifo /run/initctl; echo up > /markers/ictl.ready;
		dd if=/run/initctl bs=384 count=1 2>/dev/null | od -An -c | tr -d ' \n' > /markers/ictl.req; exit 0`
	d.defineAndStart(containerSpec{name: "ictl", root: root, markers: markers, init: []string{"/bin/sh", "-c", fifoInit}})
	waitMarker(t, markers, "ictl")
	d.virsh("shutdown", "ictl", "--mode", "initctl")
	waitFor(t, "the initctl shutdown", 10*time.Second, func() bool {
		return strings.Contains(d.virsh("domstate", "--reason", "ictl"), "shut off (shutdown)")
	})
	req, _ := os.ReadFile(filepath.Join(markers, "ictl.req"))
	if !strings.Contains(string(req), "0") {
		t.Errorf("initctl request %q carries no runlevel 0", req)
	}

	stubborn := `trap '' TERM; echo up > /markers/stub.ready; while :; do sleep 1; done`
	d.defineAndStart(containerSpec{name: "stub", root: root, markers: markers, init: []string{"/bin/sh", "-c", stubborn}})
	waitMarker(t, markers, "stub")
	d.virsh("shutdown", "stub")
	waitFor(t, "SIGKILL after the grace time", 10*time.Second, func() bool {
		return strings.Contains(d.virsh("domstate", "--reason", "stub"), "shut off (shutdown)")
	})
	expectClean(t, d, root, markers)
}

// TestTransientAndAutodestroy covers transient domains (virsh create),
// which disappear when they stop, and AUTODESTROY, which destroys a domain
// when the connection that started it closes.
func TestTransientAndAutodestroy(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	spec := containerSpec{name: "tr1", root: root, markers: markers}
	file := writeFile(t, d.dir, "tr1.xml", spec.xml())
	wantContains(t, d.virsh("create", file), "Domain 'tr1' created")
	waitMarker(t, markers, "tr1")
	wantContains(t, d.virsh("dominfo", "tr1"), "Persistent:     no", "State:          running")
	d.virsh("destroy", "tr1")
	if out := d.virsh("list", "--all", "--name"); strings.Contains(out, "tr1") {
		t.Errorf("transient domain still listed after destroy:\n%s", out)
	}

	auto := containerSpec{name: "auto1", root: root, markers: markers}
	d.virsh("define", writeFile(t, d.dir, "auto1.xml", auto.xml()))
	d.virsh("start", "auto1", "--autodestroy")
	waitFor(t, "the autodestroy domain to be destroyed when virsh exits", 10*time.Second, func() bool {
		return strings.Contains(d.virsh("domstate", "--reason", "auto1"), "shut off (destroyed)")
	})
	expectClean(t, d, root, markers)
}

// TestAutostart starts autostart domains when the daemon starts (once per
// host boot, as libvirt does: the marker in the state directory is what a
// reboot clears).
func TestAutostart(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	spec := containerSpec{name: "as1", root: root, markers: markers}
	d.virsh("define", writeFile(t, d.dir, "as1.xml", spec.xml()))
	d.virsh("autostart", "as1")
	d.stop()
	os.Remove(filepath.Join(d.stateDir, "autostarted"))
	d.start()
	waitMarker(t, markers, "as1")
	wantContains(t, d.virsh("domstate", "as1"), "running")
	d.virsh("destroy", "as1")
	d.stop()
	d.start() // same boot: not started again
	time.Sleep(300 * time.Millisecond)
	wantContains(t, d.virsh("domstate", "as1"), "shut off")
	expectClean(t, d, root, markers)
}

// TestDaemonCrashKeepsContainers kills the daemon with SIGKILL while five
// containers run; a new daemon manages all five again.
func TestDaemonCrashKeepsContainers(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	ids := map[string]int{}
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("k%d", i)
		ids[name] = d.defineAndStart(containerSpec{name: name, root: root, markers: markers})
		waitMarker(t, markers, name)
	}
	d.virsh("suspend", "k5")
	d.kill()
	// k4 ends while no daemon watches it: the next one cleans it up.
	syscall.Kill(ids["k4"], syscall.SIGKILL)
	d.start()
	for name, id := range ids {
		if name == "k4" {
			continue
		}
		if got := d.domid(name); got != id {
			t.Errorf("%s: id %d after the restart, was %d", name, got, id)
		}
	}
	waitFor(t, "k4 to be seen as stopped", 10*time.Second, func() bool {
		return strings.Contains(d.virsh("domstate", "k4"), "shut off")
	})
	if dirs, _ := filepath.Glob(fmt.Sprintf("/sys/fs/cgroup/*/machine/lxc-%d-k4.libvirt-lxc", ids["k4"])); len(dirs) > 0 {
		t.Errorf("k4's cgroup outlived it: %v", dirs)
	}
	// The new daemon holds the cgroups of the running ones again.
	wantContains(t, d.virsh("domstate", "--reason", "k5"), "paused (user)")
	d.virsh("resume", "k5")
	wantContains(t, d.virsh("domstate", "--reason", "k5"), "running (unpaused)")
	d.virsh("schedinfo", "k1", "--live", "--set", "cpu_shares=333")
	wantFile(t, "cpu", ids["k1"], "k1", "cpu.shares", "333")
	wantContains(t, d.virsh("dominfo", "k1"), "State:          running")
	d.virsh("destroy", "k1")
	d.virsh("shutdown", "k2")
	waitFor(t, "k2 to shut down", 15*time.Second, func() bool {
		return strings.Contains(d.virsh("domstate", "--reason", "k2"), "shut off (shutdown)")
	})
	os.Remove(filepath.Join(markers, "k3.ready"))
	d.virsh("reboot", "k3")
	waitMarker(t, markers, "k3")
	for _, name := range []string{"k3", "k5"} {
		d.virsh("destroy", name)
	}
	expectClean(t, d, root, markers)
}

// TestStartBadInput checks the start failures: each is a clear error or a
// clean stop, and leaves nothing behind.
func TestStartBadInput(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	d.defineAndStart(containerSpec{name: "run1", root: root, markers: markers})
	// virsh refuses on its own ("Domain is already active"); the daemon's
	// answer shows through python.
	_, errOut, err := d.virshResult("start", "run1")
	if err == nil || !strings.Contains(errOut, "already active") {
		t.Errorf("second start: %v %s", err, errOut)
	}
	wantContains(t, d.python(`
import os, libvirt
c = libvirt.open(os.environ["URI"])
try:
    c.lookupByName("run1").create()
except libvirt.libvirtError as e:
    print(e.get_error_code(), e)
`), "55 Requested operation is not valid: domain is already running")
	d.virsh("destroy", "run1")

	failures := []struct {
		spec containerSpec
		want string
	}{
		{containerSpec{name: "noroot", root: "/nonexistent/rootfs"}, "root filesystem /nonexistent/rootfs does not exist"},
		{containerSpec{name: "noinit", root: root, init: []string{"/sbin/no-such-init"}}, "cannot find init path '/sbin/no-such-init' relative to container root"},
		{containerSpec{name: "wrongowner", root: root,
			top: "  <idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap>\n"},
			"is owned by uid 0, but <idmap> maps the container's root to host uid 100000"},
	}
	for _, f := range failures {
		d.virsh("define", writeFile(t, d.dir, f.spec.name+".xml", f.spec.xml()))
		_, errOut, err := d.virshResult("start", f.spec.name)
		if err == nil || !strings.Contains(errOut, f.want) {
			t.Errorf("%s: want %q, got err=%v %s", f.spec.name, f.want, err, errOut)
		}
		wantContains(t, d.virsh("domstate", f.spec.name), "shut off")
	}
	quick := containerSpec{name: "quick", root: root, init: []string{"/bin/true"}}
	d.virsh("define", writeFile(t, d.dir, "quick.xml", quick.xml()))
	d.virsh("start", "quick")
	waitFor(t, "an init that exits at once to stop", 10*time.Second, func() bool {
		return strings.Contains(d.virsh("domstate", "--reason", "quick"), "shut off (shutdown)")
	})
	d.virsh("uri")
	expectClean(t, d, root, markers)
}

// TestNativeConfig converts an lxc-tools config with virsh
// domxml-from-native, defines the result unchanged and starts it (libvirt's
// own output does not start: it keeps the dir: prefix and has no
// console), then converts it back with domxml-to-native.
func TestNativeConfig(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	config := fmt.Sprintf(`lxc.uts.name = native1
lxc.rootfs.path = dir:%s
lxc.mount.entry = %s markers none bind 0 0
lxc.cgroup.memory.limit_in_bytes = 67108864
lxc.cgroup.cpu.shares = 256
lxc.cap.drop = sys_module mac_admin
lxc.apparmor.profile = unconfined
`, root, markers)
	xml := d.virsh("domxml-from-native", "lxc-tools", writeFile(t, d.dir, "native1.conf", config))
	wantContains(t, xml, "<name>native1</name>", "<source dir='"+root+"'/>", "<console type='pty'>",
		"<shares>256</shares>", "<mac_admin state='off'/>", "<privnet/>")
	if !d.logged("lxc.apparmor.profile") {
		t.Errorf("the unmapped key was not reported in the log")
	}
	file := writeFile(t, d.dir, "native1.xml", xml)
	d.virsh("define", file)
	d.virsh("start", "native1")
	waitMarker(t, markers, "native1")
	native := d.virsh("domxml-to-native", "lxc-tools", file)
	wantContains(t, native, "lxc.uts.name = native1", "lxc.rootfs.path = dir:"+root)
	d.virsh("destroy", "native1")
	expectClean(t, d, root, markers)
}
