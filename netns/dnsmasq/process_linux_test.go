package dnsmasq

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsvirt/nsvirt/netns/internal/nstest"
)

// TestConfSyntax has dnsmasq itself check the generated files, when it is
// installed; it needs no root.
func TestConfSyntax(t *testing.T) {
	bin, err := binary()
	if err != nil {
		nstest.SkipOrFail(t, "needs dnsmasq: %v", err)
	}
	dir := t.TempDir()
	c := defaultNet()
	c.Forwarders = []Forwarder{{Domain: "corp.test", Addr: addr("10.1.1.1")}, {Addr: addr("9.9.9.9")}}
	c.NoGateway, c.User = true, "nobody"
	c = c.WithPaths(dir)
	c.PidFile = ""
	conf := filepath.Join(dir, "t.conf")
	if err := os.WriteFile(conf, []byte(c.Conf()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--test", "--conf-file="+conf).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "syntax check OK") {
		t.Errorf("dnsmasq --test: %v: %s\n%s", err, out, c.Conf())
	}
}

// TestStopSparesStrangers points the pid file at a process that is not
// dnsmasq (and at one that is dnsmasq-named but runs another
// configuration): Stop, Reload and Running must leave it alone.
func TestStopSparesStrangers(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfName), []byte("pid-file="+filepath.Join(dir, "other.pid")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, argv := range [][]string{
		{"sleep", "60"},
		{"dnsmasq", "-c", "sleep 60; :", "--conf-file=/elsewhere/dnsmasq.conf"},
	} {
		cmd := exec.Command("sleep")
		if argv[0] == "dnsmasq" {
			cmd = exec.Command("sh") // a shell that calls itself dnsmasq
		}
		cmd.Args = argv
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
		pidFile := filepath.Join(dir, "other.pid")
		if err := os.WriteFile(pidFile, []byte(fmt.Sprintf("%d\n", cmd.Process.Pid)), 0o644); err != nil {
			t.Fatal(err)
		}
		waitCmdline(t, cmd.Process.Pid, argv[0])
		if Running(dir) {
			t.Errorf("%v: Running reports a stranger as our dnsmasq", argv)
		}
		if err := Reload(dir); err == nil {
			t.Errorf("%v: Reload signalled a stranger", argv)
		}
		if err := Stop(dir); err != nil {
			t.Errorf("%v: Stop = %v", argv, err)
		}
		if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
			t.Errorf("%v: the stranger is gone after Stop: %v", argv, err)
		}
		if _, err := os.Stat(pidFile); err == nil {
			t.Errorf("%v: Stop left the stale pid file", argv)
		}
	}
}

func TestStopWithoutPidFile(t *testing.T) {
	dir := t.TempDir()
	if Running(dir) {
		t.Error("Running in an empty directory")
	}
	if err := Stop(dir); err != nil {
		t.Errorf("Stop in an empty directory: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, PidName), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Stop(dir); err != nil {
		t.Errorf("Stop with a garbage pid file: %v", err)
	}
}

func TestStartRefusesBadConfig(t *testing.T) {
	if _, err := Start(Config{Name: "x", Bridge: "br0"}, "relative"); err == nil || !strings.Contains(err.Error(), "not absolute") {
		t.Errorf("Start in a relative directory = %v", err)
	}
	dir := t.TempDir()
	if _, err := Start(Config{Name: "x"}, dir); err == nil {
		t.Error("Start without a bridge succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, ConfName)); err == nil {
		t.Error("Start wrote a configuration it refused")
	}
}

// waitCmdline waits until process pid has exec'd argv0.
func waitCmdline(t *testing.T, pid int, argv0 string) {
	t.Helper()
	for range 500 {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.HasPrefix(string(b), argv0+"\x00") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d never ran %s", pid, argv0)
}
