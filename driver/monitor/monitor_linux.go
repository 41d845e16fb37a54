package monitor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsvirt/nsvirt/driver/container"
)

// Descriptor layout of a monitor, as Spawn passes it.
const ctrlFD = 3

// monitor is the state of a running monitor process.
type monitor struct {
	cfg      Config
	cmd      *exec.Cmd
	consoles []*console

	mu       sync.Mutex
	exit     *Exit
	watchers []net.Conn
}

// Main is the monitor's entry point. It never returns.
func Main() {
	// init is started from this goroutine with a parent-death signal,
	// which the kernel ties to the creating thread: keep the thread.
	runtime.LockOSThread()
	// The monitor lives as long as its container: keep it small.
	debug.SetGCPercent(50)
	debug.SetMemoryLimit(8 << 20)
	signal.Ignore(syscall.SIGPIPE, syscall.SIGHUP, syscall.SIGINT)
	// Descriptors arrive without close-on-exec; only those handed to init
	// on purpose may reach the container.
	_ = unix.CloseRange(ctrlFD, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	ctrl := os.NewFile(ctrlFD, "ctrl")
	var cfg Config
	if err := json.NewDecoder(bufio.NewReader(ctrl)).Decode(&cfg); err != nil {
		report(ctrl, Status{Error: "read monitor configuration: " + err.Error()})
		os.Exit(1)
	}
	m := &monitor{cfg: cfg}
	ln, err := m.start()
	if err != nil {
		report(ctrl, Status{Error: err.Error()})
		os.Exit(1)
	}
	report(ctrl, Status{Pid: m.cmd.Process.Pid})
	ctrl.Close()
	go m.serve(ln)
	m.wait(ln)
	os.Exit(0)
}

func report(w *os.File, st Status) {
	_ = json.NewEncoder(w).Encode(st)
}

// start listens on the monitor socket and starts the init helper in the
// container's new namespaces.
func (m *monitor) start() (net.Listener, error) {
	n := m.cfg.Consoles
	fd := ctrlFD + 1
	masters, slaves := files(fd, n, "master"), files(fd+n, n, "slave")
	sync := os.NewFile(uintptr(fd+2*n), "sync")
	pass := files(fd+2*n+1, m.cfg.PassFDs, "pass")
	if n == 0 {
		return nil, errors.New("a container needs at least one console")
	}
	sock := SocketPath(m.cfg.StateDir, m.cfg.Name)
	os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", sock, err)
	}
	os.Remove(ExitPath(m.cfg.StateDir, m.cfg.Name))
	// The helper finds the sync socket right after the passed descriptors,
	// which init receives as 3, 4, ...
	cmd := exec.Command("/proc/self/exe", container.InitCommand, strconv.Itoa(3+len(pass)))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slaves[0], slaves[0], slaves[0]
	cmd.ExtraFiles = append(pass, sync)
	cmd.Env = []string{}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 m.cfg.Cloneflags,
		UidMappings:                m.cfg.UidMappings,
		GidMappings:                m.cfg.GidMappings,
		GidMappingsEnableSetgroups: true,
		Setsid:                     true,
		Setctty:                    true,
		Ctty:                       0,
		// If the monitor dies, the container dies with it, as it does
		// with libvirt's controller. The monitor's main goroutine, which
		// starts init, stays on its thread for the monitor's whole life
		// (Pdeathsig follows the creating thread).
		Pdeathsig: syscall.SIGKILL,
	}
	if m.cfg.Cloneflags&syscall.CLONE_NEWUSER != 0 {
		// In its new user namespace the child starts as the overflow user,
		// and exec would strip the capabilities it got from clone: become
		// the namespace's root first, so the helper keeps them.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	if err := cmd.Start(); err != nil {
		ln.Close()
		os.Remove(sock)
		return nil, fmt.Errorf("start container init: %w", err)
	}
	m.cmd = cmd
	for _, f := range append(append(slaves, sync), pass...) {
		f.Close()
	}
	for i, master := range masters {
		c := newConsole(master, m.cfg.RingSize)
		if i == 0 && m.cfg.ConsoleLog != "" {
			c.openLog(m.cfg.ConsoleLog, m.cfg.ConsoleLogAppend)
		}
		m.consoles = append(m.consoles, c)
		go c.pump()
	}
	return ln, nil
}

func files(first, n int, name string) []*os.File {
	out := make([]*os.File, n)
	for i := range out {
		out[i] = os.NewFile(uintptr(first+i), name)
	}
	return out
}

// wait reaps init, records how it ended, tells the watchers and shuts the
// monitor down.
func (m *monitor) wait(ln net.Listener) {
	err := m.cmd.Wait()
	ex := Exit{Code: -1}
	if ws, ok := m.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		if ws.Signaled() {
			ex.Signal = int(ws.Signal())
		} else {
			ex.Code = ws.ExitStatus()
		}
	} else if err != nil {
		ex.Error = err.Error()
	}
	m.record(ex)
	ln.Close()
	os.Remove(SocketPath(m.cfg.StateDir, m.cfg.Name))
	for _, c := range m.consoles {
		c.finish(time.Second)
	}
}

// record saves the exit to the exit file, then tells the watchers, so a
// daemon that misses the message finds the file.
func (m *monitor) record(ex Exit) {
	b, _ := json.Marshal(ex)
	path := ExitPath(m.cfg.StateDir, m.cfg.Name)
	// The state directory lives on a tmpfs (/run): the record needs to
	// be whole, not durable, so it is renamed into place but not synced.
	if f, err := os.OpenFile(path+".new", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err == nil {
		f.Write(b)
		f.Close()
		os.Rename(path+".new", path)
	}
	m.mu.Lock()
	m.exit = &ex
	watchers := m.watchers
	m.watchers = nil
	m.mu.Unlock()
	st := Status{Pid: m.cmd.Process.Pid, Exit: &ex}
	for _, w := range watchers {
		_ = w.SetWriteDeadline(time.Now().Add(time.Second))
		_ = json.NewEncoder(w).Encode(st)
		w.Close()
	}
}

// serve answers clients on the monitor socket.
func (m *monitor) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go m.handle(c)
	}
}

func (m *monitor) handle(c net.Conn) {
	r := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := r.ReadBytes('\n')
	var req request
	if err == nil {
		err = json.Unmarshal(line, &req)
	}
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		c.Close()
		return
	}
	switch req.Op {
	case "watch":
		m.watch(c)
	case "signal":
		m.signal(c, syscall.Signal(req.Signal))
	case "console":
		m.console(c, r, req)
	default:
		reply(c, Status{Error: "unknown request " + strconv.Quote(req.Op)})
		c.Close()
	}
}

func reply(c net.Conn, st Status) {
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = json.NewEncoder(c).Encode(st)
	_ = c.SetWriteDeadline(time.Time{})
}

func (m *monitor) watch(c net.Conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	reply(c, Status{Pid: m.cmd.Process.Pid, Exit: m.exit})
	if m.exit != nil {
		c.Close()
		return
	}
	m.watchers = append(m.watchers, c)
}

// signal sends sig to init unless it has already been reaped.
func (m *monitor) signal(c net.Conn, sig syscall.Signal) {
	defer c.Close()
	m.mu.Lock()
	ended := m.exit != nil
	m.mu.Unlock()
	if ended {
		reply(c, Status{Error: "init has already exited"})
		return
	}
	if err := m.cmd.Process.Signal(sig); err != nil {
		reply(c, Status{Error: "signal init: " + err.Error()})
		return
	}
	reply(c, Status{Pid: m.cmd.Process.Pid})
}

func (m *monitor) console(c net.Conn, r *bufio.Reader, req request) {
	if req.Console < 0 || req.Console >= len(m.consoles) {
		reply(c, Status{Error: fmt.Sprintf("no console %d", req.Console)})
		c.Close()
		return
	}
	m.consoles[req.Console].attach(c, r, req.Force)
}
