package monitor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
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

func (f Files) list() []int {
	var fds []int
	for _, group := range [][]*os.File{f.Masters, f.Slaves, {f.Sync}, f.Pass} {
		for _, file := range group {
			fds = append(fds, int(file.Fd()))
		}
	}
	return fds
}

// Process is a monitor the daemon started.
type Process struct {
	Pid     int // the monitor's PID
	InitPid int // the container init's PID on the host
	done    chan struct{}
}

// Done is closed when the monitor process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Spare is a monitor process started ahead of need: it has paid for its
// exec and runtime start-up and waits for a container to run. Handing a
// start to a spare takes that cost off the start's critical path.
type Spare struct {
	cmd  *exec.Cmd
	ctrl *net.UnixConn
	done chan struct{}
}

// StartSpare starts a monitor (exe re-executed with Command) that waits
// on its control socket. It runs in its own session so that signals aimed
// at the daemon do not reach it, and exits when the daemon goes away
// before giving it work. The state directory on its command line is only
// there for ps and for tests that clean up after a crashed daemon.
func StartSpare(exe, stateDir string) (*Spare, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("create monitor control socket: %w", err)
	}
	parent := os.NewFile(uintptr(pair[0]), "monitor-ctrl")
	child := os.NewFile(uintptr(pair[1]), "monitor-ctrl-child")
	defer parent.Close()
	defer child.Close()
	nc, err := net.FileConn(parent)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, Command, stateDir)
	cmd.ExtraFiles = []*os.File{child}
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GOMAXPROCS=1", "GOGC=20"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	s := &Spare{cmd: cmd, ctrl: nc.(*net.UnixConn), done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	return s, nil
}

// Discard stops an unused spare.
func (s *Spare) Discard() {
	s.ctrl.Close()
	<-s.done
}

// Launch gives the spare its container: the configuration and the
// descriptors go over the control socket, and Launch returns once init
// exists, blocked on its sync socket.
func (s *Spare) Launch(cfg Config, f Files) (*Process, error) {
	defer s.ctrl.Close()
	cfg.Consoles, cfg.PassFDs = len(f.Masters), len(f.Pass)
	msg, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	msg = append(msg, '\n')
	if _, _, err := s.ctrl.WriteMsgUnix(msg, unix.UnixRights(f.list()...), nil); err != nil {
		s.cmd.Process.Kill()
		return nil, fmt.Errorf("configure monitor: %w", err)
	}
	st, err := readStatus(bufio.NewReader(s.ctrl))
	if err != nil {
		s.cmd.Process.Kill()
		return nil, fmt.Errorf("monitor did not start init: %w", err)
	}
	if st.Error != "" {
		return nil, errors.New(st.Error)
	}
	return &Process{Pid: s.cmd.Process.Pid, InitPid: st.Pid, done: s.done}, nil
}

// Spawn starts a monitor and launches the container in it at once.
func Spawn(exe string, cfg Config, f Files) (*Process, error) {
	s, err := StartSpare(exe, cfg.StateDir)
	if err != nil {
		return nil, err
	}
	return s.Launch(cfg, f)
}
