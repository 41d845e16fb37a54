package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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
