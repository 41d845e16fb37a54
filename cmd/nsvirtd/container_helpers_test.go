package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers for tests that run real containers (root only).

var (
	rootfsOnce sync.Once
	rootfsDir  string
	rootfsErr  error
)

// busyboxRootfs builds (once per test binary) a busybox root file system
// with testdata/mkrootfs-busybox.sh and returns its path.
func busyboxRootfs(t testing.TB) string {
	t.Helper()
	requireRoot(t)
	requireTool(t, "busybox", "busybox-static")
	rootfsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nsvirt-rootfs-")
		if err != nil {
			rootfsErr = err
			return
		}
		rootfsDir = filepath.Join(dir, "rootfs")
		out, err := exec.Command("sh", "../../testdata/mkrootfs-busybox.sh", rootfsDir).CombinedOutput()
		if err != nil {
			rootfsErr = fmt.Errorf("build busybox rootfs: %v\n%s", err, out)
		}
	})
	if rootfsErr != nil {
		t.Fatal(rootfsErr)
	}
	return rootfsDir
}

// waitFor polls cond until it holds or the timeout expires.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// containerSpec describes a test container's definition.
type containerSpec struct {
	name    string
	root    string // "" shares the host root
	markers string // host directory bound at /markers
	init    []string
	extra   string // more XML inside <devices>
	os      string // more XML inside <os>
	top     string // more XML at the top level
	netOn   bool   // <privnet/>
	// noConsole leaves out the default <console type='pty'/> (extra has
	// its own).
	noConsole bool
}

func (c containerSpec) xml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "<domain type='lxc'>\n  <name>%s</name>\n  <memory unit='MiB'>128</memory>\n", c.name)
	b.WriteString(c.top)
	init := c.init
	if len(init) == 0 {
		init = []string{"/sbin/init"}
	}
	fmt.Fprintf(&b, "  <os>\n    <type>exe</type>\n    <init>%s</init>\n", xmlEscape(init[0]))
	for _, a := range init[1:] {
		fmt.Fprintf(&b, "    <initarg>%s</initarg>\n", xmlEscape(a))
	}
	b.WriteString(c.os)
	b.WriteString("  </os>\n")
	if c.netOn {
		b.WriteString("  <features><privnet/></features>\n")
	}
	b.WriteString("  <devices>\n")
	if c.root != "" {
		fmt.Fprintf(&b, "    <filesystem type='mount'><source dir='%s'/><target dir='/'/></filesystem>\n", c.root)
	}
	if c.markers != "" {
		fmt.Fprintf(&b, "    <filesystem type='mount'><source dir='%s'/><target dir='/markers'/></filesystem>\n", c.markers)
	}
	b.WriteString(c.extra)
	if !c.noConsole {
		b.WriteString("    <console type='pty'/>\n")
	}
	b.WriteString("  </devices>\n</domain>\n")
	return b.String()
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// defineAndStart defines c and starts it, returning the domain ID.
func (d *daemon) defineAndStart(c containerSpec) int {
	d.t.Helper()
	file := filepath.Join(d.dir, c.name+".xml")
	if err := os.WriteFile(file, []byte(c.xml()), 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.virsh("define", file)
	d.virsh("start", c.name)
	return d.domid(c.name)
}

func (d *daemon) domid(name string) int {
	d.t.Helper()
	id, err := strconv.Atoi(strings.TrimSpace(d.virsh("domid", name)))
	if err != nil {
		d.t.Fatalf("domid %s: %v", name, err)
	}
	return id
}

// inside runs a shell command in the container whose init has host PID
// pid, through nsenter, and returns its output.
func inside(t testing.TB, pid int, userns bool, script string) string {
	t.Helper()
	args := []string{"-t", strconv.Itoa(pid), "-m", "-u", "-i", "-n", "-p", "-C"}
	if userns {
		args = append(args, "-U")
	}
	args = append(args, "--", "/bin/sh", "-c", script)
	out, err := exec.Command("nsenter", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("nsenter %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// markerDir returns a fresh host directory to bind at /markers.
func markerDir(t testing.TB) string {
	t.Helper()
	// Reachable by a container's root even in a user namespace, unlike
	// the test's own (host-root private) temporary directory.
	parent, err := os.MkdirTemp("", "nsvirt-markers-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	os.Chmod(parent, 0o755)
	dir := filepath.Join(parent, "markers")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	return dir
}

// waitMarker waits for the container to write markers/NAME.ready.
func waitMarker(t testing.TB, markers, name string) {
	t.Helper()
	waitFor(t, name+" to boot", 15*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(markers, name+".ready"))
		return err == nil
	})
}

// leftovers lists what a stopped daemon's containers left on the host:
// cgroup directories, monitor processes of our binary, mounts of paths
// under dirs, loop devices backed by files under dirs, and state files.
func leftovers(d *daemon, dirs ...string) []string {
	var out []string
	cg, _ := filepath.Glob("/sys/fs/cgroup/*/machine/lxc-*.libvirt-lxc")
	cg2, _ := filepath.Glob("/sys/fs/cgroup/*/*/machine/lxc-*.libvirt-lxc")
	out = append(out, cg...)
	out = append(out, cg2...)
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), "__nsvirt_monitor") && hasChildren(filepath.Dir(p)) {
			if exe, _ := os.Readlink(filepath.Dir(p) + "/exe"); strings.HasPrefix(exe, nsvirtdBin) {
				out = append(out, "monitor process "+filepath.Dir(p))
			}
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	losetup, _ := exec.Command("losetup", "-a").Output()
	for _, dir := range dirs {
		for _, line := range strings.Split(string(mi), "\n") {
			if dir != "" && strings.Contains(line, dir) {
				out = append(out, "mount: "+line)
			}
		}
		for _, line := range strings.Split(string(losetup), "\n") {
			if dir != "" && strings.Contains(line, dir) {
				out = append(out, "loop: "+line)
			}
		}
	}
	entries, _ := os.ReadDir(d.stateDir)
	for _, e := range entries {
		if n := e.Name(); n != "driver.pid" && n != "autostarted" {
			out = append(out, "state file "+n)
		}
	}
	return out
}

// hasChildren tells a monitor that runs a container from a spare one
// (which the daemon keeps ready, with no container yet).
func hasChildren(procDir string) bool {
	tasks, _ := filepath.Glob(procDir + "/task/*/children")
	for _, t := range tasks {
		if b, _ := os.ReadFile(t); len(strings.TrimSpace(string(b))) > 0 {
			return true
		}
	}
	return false
}

// expectClean fails the test when containers left anything behind.
func expectClean(t testing.TB, d *daemon, dirs ...string) {
	t.Helper()
	var left []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		left = leftovers(d, dirs...)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}
