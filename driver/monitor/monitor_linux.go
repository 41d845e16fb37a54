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
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

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
	// init gets a parent-death signal, which the kernel ties to the thread
	// that created it. The Go runtime never ends its threads (only a
	// goroutine that exits while locked takes one with it), so that
	// thread lives as long as the monitor without locking it here, which
	// would cost a thread more (the runtime's template thread).
	//
	// The monitor lives as long as its container: keep it small. Each OS
	// thread costs a kernel stack and about 48 KiB of runtime stacks, so
	// nothing here blocks a thread for long: descriptors go through the
	// poller, and init is awaited through a process descriptor.
	debug.SetGCPercent(20)
	signal.Ignore(syscall.SIGPIPE, syscall.SIGHUP, syscall.SIGINT)
	// Descriptors arrive without close-on-exec; only those handed to init
	// on purpose may reach the container.
	_ = unix.CloseRange(ctrlFD, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	// Through the runtime's poller, a read does not pin an OS thread (a
	// thread, once made, stays for the monitor's whole life).
	_ = unix.SetNonblock(ctrlFD, true)
	ctrlFile := os.NewFile(ctrlFD, "ctrl")
	nc, err := net.FileConn(ctrlFile)
	ctrlFile.Close()
	if err != nil {
		os.Exit(1)
	}
	ctrl := nc.(*net.UnixConn)
	cfg, fds, err := readConfig(ctrl)
	if err != nil {
		// A spare whose daemon went away before giving it work.
		os.Exit(0)
	}
	m := &monitor{cfg: cfg}
	ln, err := m.start(fds)
	if err != nil {
		report(ctrl, Status{Error: err.Error()})
		os.Exit(1)
	}
	report(ctrl, Status{Pid: m.cmd.Process.Pid})
	ctrl.Close()
	go m.serve(ln)
	// Start-up garbage (configuration, exec) is never needed again: give
	// it back, since every container pays for its monitor.
	// debug.FreeOSMemory()
	m.wait(ln)
	os.Exit(0)
}

func report(w net.Conn, st Status) {
	_ = json.NewEncoder(w).Encode(st)
}

// readConfig reads the configuration line and the descriptors that come
// with it.
func readConfig(ctrl *net.UnixConn) (Config, []int, error) {
	var cfg Config
	var line []byte
	var files []int
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*256))
	for !strings.Contains(string(line), "\n") {
		n, oobn, _, _, err := ctrl.ReadMsgUnix(buf, oob)
		line = append(line, buf[:max(n, 0)]...)
		if oobn > 0 {
			msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				fds, _ := unix.ParseUnixRights(&m)
				files = append(files, fds...)
			}
		}
		if err != nil {
			return cfg, nil, err
		}
		if n == 0 {
			return cfg, nil, errors.New("end of file")
		}
	}
	if err := json.Unmarshal(line, &cfg); err != nil {
		return cfg, nil, err
	}
	if len(files) != 2*cfg.Consoles+1+cfg.PassFDs {
		return cfg, nil, fmt.Errorf("got %d descriptors for %d consoles and %d passed", len(files), cfg.Consoles, cfg.PassFDs)
	}
	return cfg, files, nil
}

// start listens on the monitor socket and starts the init helper in the
// container's new namespaces.
func (m *monitor) start(fds []int) (net.Listener, error) {
	n := m.cfg.Consoles
	if n == 0 {
		return nil, errors.New("a container needs at least one console")
	}
	for _, fd := range fds[:n] {
		// A non-blocking master goes through the runtime's poller
		// instead of holding an OS thread in read(2).
		_ = unix.SetNonblock(fd, true)
	}
	masters, slaves := files(fds[:n], "master"), files(fds[n:2*n], "slave")
	sync, pass := os.NewFile(uintptr(fds[2*n]), "sync"), files(fds[2*n+1:], "pass")
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

func files(fds []int, name string) []*os.File {
	out := make([]*os.File, len(fds))
	for i, fd := range fds {
		out[i] = os.NewFile(uintptr(fd), name)
	}
	return out
}

// wait reaps init, records how it ended, tells the watchers and shuts the
// monitor down.
func (m *monitor) wait(ln net.Listener) {
	m.record(reap(m.cmd.Process.Pid))
	ln.Close()
	os.Remove(SocketPath(m.cfg.StateDir, m.cfg.Name))
	for _, c := range m.consoles {
		c.finish(time.Second)
	}
}

// reap waits for init to end and collects its status. The wait happens in
// the runtime's poller, on a process descriptor, so no OS thread sits in
// wait4(2) for the container's whole life.
func reap(pid int) Exit {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return waitBlocking(pid)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return waitBlocking(pid)
	}
	var info unix.Siginfo
	var werr error
	err = rc.Read(func(fd uintptr) bool {
		info = unix.Siginfo{}
		werr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG, nil)
		return werr != nil || siginfoPid(&info) != 0
	})
	if err != nil || werr != nil {
		return waitBlocking(pid)
	}
	return exitFromSiginfo(&info)
}

// siginfoPid and exitFromSiginfo read waitid(2)'s result: si_pid,
// si_code and si_status follow the signal number, errno and code words.
func siginfoPid(info *unix.Siginfo) int32 {
	return *(*int32)(unsafe.Pointer(uintptr(unsafe.Pointer(info)) + 16))
}

func exitFromSiginfo(info *unix.Siginfo) Exit {
	code := *(*int32)(unsafe.Pointer(uintptr(unsafe.Pointer(info)) + 8))
	status := int(*(*int32)(unsafe.Pointer(uintptr(unsafe.Pointer(info)) + 24)))
	switch code {
	case cldExited:
		return Exit{Code: status}
	case cldKilled, cldDumped:
		return Exit{Code: -1, Signal: status}
	}
	return Exit{Code: -1, Error: fmt.Sprintf("unexpected wait code %d", code)}
}

// si_code values of SIGCHLD (CLD_*).
const (
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
)

// waitBlocking is the fallback for kernels without process descriptors.
func waitBlocking(pid int) Exit {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EINTR) {
			return Exit{Code: -1, Error: "wait for init: " + err.Error()}
		}
	}
	if ws.Signaled() {
		return Exit{Code: -1, Signal: int(ws.Signal())}
	}
	return Exit{Code: ws.ExitStatus()}
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
