package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmux drives interactive clients (virsh console) in sessions of a
// private tmux server, so that they have the terminal they insist on.
type tmux struct {
	t      testing.TB
	socket string
	dir    string // exit statuses of the sessions' commands
}

func newTmux(t testing.TB) *tmux {
	t.Helper()
	requireTool(t, "tmux", "tmux")
	// A socket of its own under the test's directory: the tmux server
	// leaves its socket file behind, and this one goes with the directory.
	tm := &tmux{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock"), dir: t.TempDir()}
	t.Cleanup(func() { exec.Command("tmux", "-S", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// start runs command in a new session; the session stays after the
// command ends, and its exit status is kept for exited. (What a program
// prints after virsh console gave up the terminal is not reliably on the
// screen, so the status goes to a file.)
func (tm *tmux) start(session, command string) {
	tm.t.Helper()
	tm.run("new-session", "-d", "-s", session, "-x", "160", "-y", "50",
		command+"; echo $? > "+filepath.Join(tm.dir, session)+"; sleep 600")
}

// exited waits for the command of session to end and returns its status.
func (tm *tmux) exited(session string) string {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(tm.dir, session)); err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the command of session %s did not end:\n%s", session, tm.screen(session))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tm *tmux) keys(session string, keys ...string) {
	tm.t.Helper()
	tm.run(append([]string{"send-keys", "-t", session}, keys...)...)
}

func (tm *tmux) screen(session string) string {
	tm.t.Helper()
	return tm.run("capture-pane", "-p", "-S", "-200", "-t", session)
}

// wait waits until the session's screen shows want.
func (tm *tmux) wait(session, want string) {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(tm.screen(session), want) {
		if time.Now().After(deadline) {
			tm.t.Fatalf("session %s never showed %q:\n%s", session, want, tm.screen(session))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// virshCommand is a shell command line running virsh against d.
func (d *daemon) virshCommand(args ...string) string {
	return "virsh -c '" + d.uri() + "' " + strings.Join(args, " ") + " 2>&1"
}

// TestConsole drives `virsh console` through tmux: the busybox shell,
// detach and reattach, output kept while detached, refusal of a second
// client, --force, the log file, and a console that outlives a daemon
// restart.
func TestConsole(t *testing.T) {
	root := busyboxRootfs(t)
	d := startDaemon(t)
	markers := markerDir(t)
	logFile := filepath.Join(markers, "console.log")
	spec := containerSpec{name: "con1", root: root, markers: markers,
		extra: fmt.Sprintf("    <console type='pty'><log file='%s' append='off'/></console>\n", logFile)}
	spec.noConsole = true
	id := d.defineAndStart(spec)
	waitMarker(t, markers, "con1")
	tm := newTmux(t)

	tm.start("a", d.virshCommand("console", "con1"))
	tm.wait("a", "Escape character is ^]")
	tm.keys("a", "Enter")
	tm.wait("a", "/ #")
	tm.keys("a", "echo hi-$((6*7))", "Enter")
	tm.wait("a", "hi-42")
	tm.keys("a", "C-]")
	if st := tm.exited("a"); st != "0" {
		t.Errorf("virsh console ended with status %s after Ctrl-]", st)
	}

	// Output while nobody is attached is kept and shown on the next attach.
	inside(t, id, false, "echo written-while-detached > /dev/console")
	tm.start("b", d.virshCommand("console", "con1"))
	tm.wait("b", "written-while-detached")

	// A second client is refused; --force takes the console over.
	tm.start("c", d.virshCommand("console", "con1"))
	tm.wait("c", "Active console session exists for this domain")
	tm.start("f", d.virshCommand("console", "--force", "con1"))
	tm.wait("f", "Escape character is ^]")
	tm.exited("b") // taken over by --force
	tm.keys("f", "echo forced-$((1+1))", "Enter")
	tm.wait("f", "forced-2")
	tm.keys("f", "C-]")
	tm.exited("f")

	// The console lives in the monitor: it works after the daemon dies.
	d.kill()
	d.start()
	tm.start("r", d.virshCommand("console", "con1"))
	tm.wait("r", "Escape character is ^]")
	tm.keys("r", "echo after-restart-$((2*2))", "Enter")
	tm.wait("r", "after-restart-4")
	tm.keys("r", "C-]")
	tm.exited("r")

	logged, _ := os.ReadFile(logFile)
	for _, want := range []string{"hi-42", "written-while-detached", "forced-2", "after-restart-4"} {
		if !strings.Contains(string(logged), want) {
			t.Errorf("console log lacks %q:\n%s", want, logged)
		}
	}
	tm.start("x", d.virshCommand("console", "con1", "--devname", "serial9"))
	tm.wait("x", "cannot find console device 'serial9'")
	d.virsh("destroy", "con1")
	tm.start("y", d.virshCommand("console", "con1"))
	tm.wait("y", "domain is not running")
	expectClean(t, d, root, markers)
}
