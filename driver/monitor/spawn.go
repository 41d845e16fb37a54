package monitor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// Files are the descriptors a new monitor receives: the console pty
// masters it keeps and the slaves init gets, the child end of the init
// sync socket, and descriptors to pass on to init.
type Files struct {
	Masters []*os.File
	Slaves  []*os.File
	Sync    *os.File
	Pass    []*os.File
}

// Process is a monitor the daemon started.
type Process struct {
	Pid     int // the monitor's PID
	InitPid int // the container init's PID on the host
	done    chan struct{}
}

// Done is closed when the monitor process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Spawn starts a monitor (exe re-executed with Command) that starts the
// container's init, and returns once init exists, blocked on its sync
// socket. The monitor runs in its own session so that signals aimed at
// the daemon do not reach it; the daemon reaps it while it lives.
func Spawn(exe string, cfg Config, f Files) (*Process, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("create monitor control socket: %w", err)
	}
	ctrl := os.NewFile(uintptr(pair[0]), "monitor-ctrl")
	child := os.NewFile(uintptr(pair[1]), "monitor-ctrl-child")
	defer ctrl.Close()
	cfg.Consoles = len(f.Masters)
	cfg.PassFDs = len(f.Pass)
	// The state directory and name are only there for ps and for tests
	// that clean up after a crashed daemon; the monitor reads its
	// configuration from the control socket.
	cmd := exec.Command(exe, Command, cfg.StateDir, cfg.Name)
	cmd.ExtraFiles = append([]*os.File{child}, f.Masters...)
	cmd.ExtraFiles = append(cmd.ExtraFiles, f.Slaves...)
	cmd.ExtraFiles = append(cmd.ExtraFiles, f.Sync)
	cmd.ExtraFiles = append(cmd.ExtraFiles, f.Pass...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GOMAXPROCS=1", "GOGC=50"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	child.Close()
	if err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	p := &Process{Pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	if err := json.NewEncoder(ctrl).Encode(cfg); err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("configure monitor: %w", err)
	}
	st, err := readStatus(bufio.NewReader(ctrl))
	if err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("monitor did not start init: %w", err)
	}
	if st.Error != "" {
		return nil, errors.New(st.Error)
	}
	p.InitPid = st.Pid
	return p, nil
}
