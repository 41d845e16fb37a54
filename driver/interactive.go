package driver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/nsvirt/nsvirt/driver/monitor"
)

// Console flags (virDomainConsoleFlags).
const (
	ConsoleForce = 1
	ConsoleSafe  = 2
)

// Console is an open container console: reads return the container's
// output, writes are its input. Close detaches.
type Console interface {
	io.ReadWriteCloser
	// CloseWrite tells the console that no more input comes.
	CloseWrite() error
}

// monitorConsole is a console relayed by the container's monitor.
type monitorConsole struct {
	conn *net.UnixConn
	r    *bufio.Reader // holds bytes read past the monitor's reply
}

func (c *monitorConsole) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *monitorConsole) Write(p []byte) (int, error) { return c.conn.Write(p) }
func (c *monitorConsole) Close() error                { return c.conn.Close() }
func (c *monitorConsole) CloseWrite() error           { return c.conn.CloseWrite() }

// OpenConsole attaches to a running domain's console named by its alias
// (console0, …), or its first console when dev is "". The container's
// monitor holds the console, so it works across daemon restarts. While one
// client is attached another is refused, unless it asks with ConsoleForce
// and takes the console over. Output written while nobody was attached
// comes first.
func (d *Driver) OpenConsole(ref DomainRef, dev string, flags uint32) (Console, error) {
	if flags&^(ConsoleForce|ConsoleSafe) != 0 {
		return nil, unsupportedFlags(flags, "virDomainOpenConsole")
	}
	var name string
	index := -1
	err := d.snapshot(ref, func(dom *domain) error {
		if dom.rt == nil {
			return errorf(KindOperationInvalid, "domain is not running")
		}
		name = dom.name
		for i, c := range devices(dom.live.Def).Consoles {
			alias := fmt.Sprintf("console%d", i)
			if c.Alias != nil {
				alias = c.Alias.Name
			}
			if dev == "" || dev == alias {
				index = i
				break
			}
		}
		if index < 0 {
			return errorf(KindInternal, "cannot find console device '%s'", dev)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	conn, r, err := monitor.OpenConsole(d.cfg.StateDir, name, index, flags&ConsoleForce != 0)
	if err != nil {
		if strings.Contains(err.Error(), "in use") {
			return nil, errorf(KindOperationFailed, "Active console session exists for this domain")
		}
		return nil, errorf(KindOperationFailed, "open console of %s: %w", name, err)
	}
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		conn.Close()
		return nil, errorf(KindInternal, "console of %s: unexpected connection type", name)
	}
	return &monitorConsole{conn: uc, r: r}, nil
}

// namespaceOrder is the order in which libvirt hands out a container's
// namespaces (virProcessGetNamespaces).
var namespaceOrder = []string{"user", "ipc", "uts", "net", "pid", "mnt"}

// Namespaces opens the namespace files of a running domain's init, in
// libvirt's order, for virDomainLxcOpenNamespace: the client joins them
// with setns (ignoring EINVAL for those it already shares) and forks its
// command inside. For a container with <idmap> the user namespace is left
// out (see below). The caller owns the files.
func (d *Driver) Namespaces(ref DomainRef, flags uint32) ([]*os.File, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virDomainLxcOpenNamespace")
	}
	var pid int
	var userns bool
	err := d.snapshot(ref, func(dom *domain) error {
		if dom.rt == nil {
			return errorf(KindOperationInvalid, "domain is not running")
		}
		pid, userns = dom.rt.initPid, dom.live.Def.IDMap != nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	var files []*os.File
	for _, ns := range namespaceOrder {
		if ns == "user" && userns {
			// A client that joins the container's user namespace keeps
			// its host uid 0, which the container does not map: stock
			// virsh would run the command as the overflow uid and it
			// could write nothing. Without the user namespace the
			// command runs as root, as `nsenter` without -U does.
			continue
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if err != nil {
			closeAll(files)
			return nil, errorf(KindSystem, "open the %s namespace of init %d: %w", ns, pid, err)
		}
		files = append(files, f)
	}
	return files, nil
}

// SendProcessSignal sends signal signum (virDomainProcessSignal numbers,
// which are Linux's) to process pid of the container. As in libvirt, only
// the container's init (PID 1) can be signalled.
func (d *Driver) SendProcessSignal(ref DomainRef, pid int64, signum uint32, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virDomainSendProcessSignal")
	}
	sig, ok := unixSignal(signum)
	if !ok {
		return errorf(KindInvalidArg, "signum value %d is out of range", signum)
	}
	if pid != 1 {
		return errorf(KindConfigUnsupported, "Only the init process may be signaled")
	}
	var name string
	var initPid int
	err := d.snapshot(ref, func(dom *domain) error {
		if dom.rt == nil {
			return errorf(KindOperationInvalid, "domain is not running")
		}
		name, initPid = dom.name, dom.rt.initPid
		return nil
	})
	if err != nil {
		return err
	}
	if sig == 0 {
		return nil // a probe: the domain runs
	}
	if err := monitor.Signal(d.cfg.StateDir, name, sig); err != nil {
		// The monitor may be gone while init still runs (it is never
		// restarted); signal init directly then.
		if kerr := syscall.Kill(initPid, sig); kerr != nil {
			return errorf(KindSystem, "send signal %d to the init of %s: %w", signum, name, kerr)
		}
	}
	return nil
}

// unixSignal maps a virDomainProcessSignal number to Linux's: the first 32
// are the same; RT0… are SIGRTMIN+n as glibc numbers them.
func unixSignal(signum uint32) (syscall.Signal, bool) {
	switch {
	case signum < 32:
		return syscall.Signal(signum), true
	case signum <= 64 && glibcSIGRTMIN+int(signum-32) <= 64:
		return syscall.Signal(glibcSIGRTMIN + int(signum-32)), true
	}
	return 0, false
}
