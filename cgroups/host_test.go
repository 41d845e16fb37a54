package cgroups

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	ocg "github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// requireRoot skips a test that needs root, or fails it when
// NSVIRT_TEST_STRICT=1 forbids skipping.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("NSVIRT_TEST_STRICT") == "1" {
		t.Fatal("this test needs root to create cgroups on the host, and NSVIRT_TEST_STRICT=1 forbids skipping it")
	}
	t.Skip("skipped: this test needs root to create cgroups on the host")
}

// hostLayout returns the running host's layout, with the library writing
// real cgroup files only.
func hostLayout(t *testing.T) *Layout {
	t.Helper()
	old := ocg.TestMode
	ocg.TestMode = false
	t.Cleanup(func() { ocg.TestMode = old })
	l, err := Detect()
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	return l
}

// testPath is a fresh group path under /machine.
func testPath(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "/machine/nsvirt-test-" + hex.EncodeToString(b)
}

// newHostGroup returns the group at path with r, and removes whatever it
// leaves on the host when the test ends, even a failed one: its tasks,
// its directories and the parents the test made.
func newHostGroup(t *testing.T, l *Layout, path string, r Resources) *Group {
	t.Helper()
	g, err := l.Group(path, r)
	if err != nil {
		t.Fatalf("Group: %v", err)
	}
	var made []string // missing parents, deepest last
	for _, d := range g.Paths() {
		mount := strings.TrimSuffix(d, path)
		for p := filepath.Dir(d); len(p) > len(mount); p = filepath.Dir(p) {
			if _, err := os.Stat(p); err != nil {
				made = append(made, p)
			}
		}
	}
	sort.Slice(made, func(i, j int) bool { return len(made[i]) < len(made[j]) })
	t.Cleanup(func() { removeHostGroup(t, g, made) })
	return g
}

func removeHostGroup(t *testing.T, g *Group, made []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = g.Freeze(false)
	if err := g.Kill(ctx); err != nil {
		t.Errorf("cleanup: kill: %v", err)
	}
	_ = g.Destroy()
	for _, d := range g.Paths() {
		if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
			t.Errorf("cleanup: %s left behind: %v", d, err)
		}
	}
	for i := len(made) - 1; i >= 0; i-- {
		_ = unix.Rmdir(made[i]) // unless others use it meanwhile
	}
}

// child is a shell that waits for a line on its input, then burns some
// CPU, writes 1 MiB to ddFile (if any) bypassing the page cache, says
// "ready" and becomes sleep.
type child struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	exited chan error
}

func startChild(t *testing.T, ddFile string) *child {
	t.Helper()
	c := &child{cmd: exec.Command("/bin/sh", "-c", `read x; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done
		[ -z "$DD" ] || dd if=/dev/zero of="$DD" bs=64k count=16 oflag=direct 2>/dev/null
		echo ready; exec sleep 30`)}
	c.cmd.Env = append(os.Environ(), "DD="+ddFile)
	var err error
	if c.in, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.out = bufio.NewReader(out)
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	c.exited = make(chan error, 1)
	go func() { c.exited <- c.cmd.Wait() }()
	t.Cleanup(func() { c.cmd.Process.Kill() })
	return c
}

// run lets the child go on and waits until it has done its work.
func (c *child) run(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(c.in, "go\n"); err != nil {
		t.Fatal(err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child said %q (%v), want ready", line, err)
	}
}

// readHost returns a cgroup file's content without surrounding blanks.
func readHost(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("read %v", err)
	}
	return strings.TrimSpace(string(b))
}
