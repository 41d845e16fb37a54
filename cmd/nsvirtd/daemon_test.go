package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The end-to-end tests build nsvirtd once, start it on private sockets
// and directories under t.TempDir(), and drive it with the real clients.

var nsvirtdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nsvirtd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	nsvirtdBin = filepath.Join(dir, "nsvirtd")
	build := exec.Command("go", "build", "-o", nsvirtdBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build does
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build nsvirtd: %v\n%s", err, out)
		os.Exit(1)
	}
	unlock := func() {}
	if os.Geteuid() == 0 {
		unlock = shareHostForwarding()
	}
	code := m.Run()
	unlock()
	os.RemoveAll(dir)
	if rootfsDir != "" {
		os.RemoveAll(filepath.Dir(rootfsDir))
	}
	os.Exit(code)
}

// hostForwardingLock is the lock file netns/internal/nstest holds
// exclusively while it checks that the netns root tests leave the host's
// forwarding sysctls alone (nstest.HostForwardingLock; this package may
// not import it). The daemons started here switch host forwarding on and
// off with their networks, so the package holds the lock shared.
const hostForwardingLock = "/run/lock/nsvirt-tests-host-forwarding"

// shareHostForwarding takes hostForwardingLock shared and returns its
// release; without the lock the tests run anyway.
func shareHostForwarding() func() {
	os.MkdirAll("/run/lock", 0o755)
	f, err := os.OpenFile(hostForwardingLock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return func() {}
	}
	unix.Flock(int(f.Fd()), unix.LOCK_SH)
	return func() { f.Close() }
}

// strict reports whether missing prerequisites fail tests instead of
// skipping them (set by `make test`, so CI never counts a skip as a pass).
func strict() bool { return os.Getenv("NSVIRT_TEST_STRICT") == "1" }

// requireTool skips (or, in strict mode, fails) when a client program is
// not installed.
func requireTool(t testing.TB, path, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(path); err != nil {
		if strict() {
			t.Fatalf("%s is missing: install the Debian package %s", path, pkg)
		}
		t.Skipf("%s is missing: install the Debian package %s", path, pkg)
	}
}

// requireRoot skips (or fails in strict mode) when not running as root.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		if strict() {
			t.Fatal("this test needs root")
		}
		t.Skip("this test needs root: run it with sudo (make test does)")
	}
}

// daemon is an nsvirtd started by a test.
type daemon struct {
	t         testing.TB
	dir       string
	socket    string
	configDir string
	stateDir  string
	cmd       *exec.Cmd
	log       *lockedBuffer
	exited    chan struct{}
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logged reports whether the daemon's log comes to contain text within a
// few seconds: a goroutine copies the daemon's stderr into the buffer, so
// a line written before a reply may reach the buffer after it.
func (d *daemon) logged(text string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(d.log.String(), text) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// startDaemon starts nsvirtd with private directories and waits until its
// socket answers.
func startDaemon(t testing.TB, flags ...string) *daemon {
	t.Helper()
	dir := t.TempDir()
	d := &daemon{
		t: t, dir: dir,
		socket:    filepath.Join(dir, "sock"),
		configDir: filepath.Join(dir, "lxc"),
		stateDir:  filepath.Join(dir, "run"),
	}
	d.start(flags...)
	t.Cleanup(func() {
		d.destroyAll()
		d.stop()
		d.killMonitors()
		if t.Failed() {
			t.Logf("nsvirtd log:\n%s", d.log.String())
		}
	})
	return d
}

// destroyAll destroys every running domain, so that no container outlives
// its test, even a failing one.
func (d *daemon) destroyAll() {
	select {
	case <-d.exited:
		return
	default:
	}
	out, _, err := d.virshResult("list", "--name")
	if err != nil {
		return
	}
	for _, name := range strings.Fields(out) {
		d.virshResult("destroy", name)
	}
}

// killMonitors is the last resort after a daemon that could not destroy
// its containers: it kills the monitors of this daemon's state directory
// (their containers die with them) and removes their cgroups.
func (d *daemon) killMonitors() {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		args := strings.Split(string(b), "\x00")
		if len(args) > 2 && args[1] == "__nsvirt_monitor" && args[2] == d.stateDir && hasChildren(filepath.Dir(p)) {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
				d.t.Errorf("monitor %d outlived its daemon and was killed", pid)
			}
		}
	}
	statuses, _ := filepath.Glob(filepath.Join(d.stateDir, "*.xml"))
	for _, st := range statuses {
		b, _ := os.ReadFile(st)
		if m := regexp.MustCompile(`cgroup=['"]([^'"]+)['"]`).FindSubmatch(b); m != nil {
			time.Sleep(100 * time.Millisecond)
			dirs, _ := filepath.Glob("/sys/fs/cgroup/*" + string(m[1]))
			more, _ := filepath.Glob("/sys/fs/cgroup/*/*" + string(m[1]))
			for _, dir := range append(dirs, more...) {
				os.Remove(dir)
			}
		}
	}
}

func (d *daemon) start(flags ...string) {
	d.t.Helper()
	args := append([]string{"--socket", d.socket, "--config-dir", d.configDir, "--state-dir", d.stateDir, "--verbose"}, flags...)
	d.log = &lockedBuffer{}
	d.cmd = exec.Command(nsvirtdBin, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.exited = make(chan struct{})
	go func() { d.cmd.Wait(); close(d.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", d.socket); err == nil {
			c.Close()
			return
		}
		select {
		case <-d.exited:
			d.t.Fatalf("nsvirtd exited during start-up:\n%s", d.log.String())
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("nsvirtd did not start listening:\n%s", d.log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	select {
	case <-d.exited:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
		d.t.Errorf("nsvirtd did not exit on SIGTERM")
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		d.t.Errorf("nsvirtd exited with status %d", code)
	}
}

// kill stops the daemon with SIGKILL, as a crash would.
func (d *daemon) kill() {
	d.cmd.Process.Kill()
	<-d.exited
}

func (d *daemon) uri() string { return "lxc:///system?socket=" + d.socket }

// virsh runs virsh against the daemon and returns its stdout; a non-zero
// exit fails the test.
func (d *daemon) virsh(args ...string) string {
	d.t.Helper()
	out, errOut, err := d.virshResult(args...)
	if err != nil {
		d.t.Fatalf("virsh %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// virshResult runs virsh and returns stdout, stderr and the exit error.
func (d *daemon) virshResult(args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "virsh", append([]string{"-c", d.uri()}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// python runs a script with Debian's /usr/bin/python3 (which has
// python3-libvirt) and returns its output. The environment holds URI and
// RO_URI (the daemon's read-write and read-only URIs) and env.
func (d *daemon) python(script string, env ...string) string {
	d.t.Helper()
	requireTool(d.t, "/usr/bin/python3", "python3")
	if err := exec.Command("/usr/bin/python3", "-c", "import libvirt").Run(); err != nil {
		if strict() {
			d.t.Fatal("python3-libvirt is missing: install the Debian package python3-libvirt")
		}
		d.t.Skip("python3-libvirt is missing: install the Debian package python3-libvirt")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "-c", script)
	cmd.Env = append(append(os.Environ(), "URI="+d.uri(), "RO_URI=lxc:///system?socket="+d.socket+"-ro"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		d.t.Fatalf("python: %v\n%s", err, out)
	}
	return string(out)
}
