// Package monitor is the per-container monitor: a small process (the
// nsvirtd binary re-executed) that starts a container's init in its new
// namespaces, stays its parent, reaps it, holds the console ptys, and
// tells the daemon what happened. It outlives daemon restarts: a new
// daemon finds it again through its socket, STATE_DIR/NAME.sock.
//
// This file holds the protocol between the daemon and a monitor, and the
// daemon's side of it. The monitor's side is in monitor_linux.go. The
// package knows nothing of libvirt XML, RPC, cgroups or networks.
package monitor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Command is the first argument that selects the monitor entry point of
// the nsvirtd binary.
const Command = "__nsvirt_monitor"

// Config is what the daemon tells a new monitor.
type Config struct {
	Name     string
	StateDir string
	// Cloneflags are the namespaces init gets (CLONE_NEWNS and friends).
	Cloneflags  uintptr
	UidMappings []syscall.SysProcIDMap
	GidMappings []syscall.SysProcIDMap
	// Consoles is the number of consoles; their pty masters and slaves
	// are passed as descriptors (see Files).
	Consoles int
	// PassFDs is the number of descriptors passed on to init as 3, 4, ...
	PassFDs int
	// ConsoleLog is a file that receives every byte of the first
	// console's output; ConsoleLogAppend keeps its earlier content.
	ConsoleLog       string
	ConsoleLogAppend bool
	// RingSize bounds the output kept for a console while nobody is
	// attached.
	RingSize int
}

// SocketPath is where the monitor of domain name listens.
func SocketPath(stateDir, name string) string { return filepath.Join(stateDir, name+".sock") }

// ExitPath is where the monitor records how init ended.
func ExitPath(stateDir, name string) string { return filepath.Join(stateDir, name+".exit") }

// Exit is how a container's init ended.
type Exit struct {
	// Code is the exit status when init exited, -1 when a signal killed it.
	Code int
	// Signal is the signal that killed init, 0 when it exited.
	Signal int
	// Error is set when the monitor itself failed to run init.
	Error string
}

// Reboot reports whether init ended the way a reboot(2) inside a PID
// namespace ends it: killed by SIGHUP.
func (e Exit) Reboot() bool { return e.Signal == int(syscall.SIGHUP) }

// request is one client request, sent as the first line of a connection.
type request struct {
	Op      string `json:"op"` // "watch", "signal" or "console"
	Signal  int    `json:"signal,omitempty"`
	Console int    `json:"console,omitempty"`
	Force   bool   `json:"force,omitempty"`
}

// Status is a monitor's report: init's PID, and how it ended once it has.
type Status struct {
	Pid   int    `json:"pid"`
	Exit  *Exit  `json:"exit,omitempty"`
	Error string `json:"error,omitempty"`
}

func dial(stateDir, name string, req request) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("unix", SocketPath(stateDir, name), 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, bufio.NewReader(c), nil
}

func readStatus(r *bufio.Reader) (Status, error) {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return Status{}, err
	}
	var st Status
	if err := json.Unmarshal(line, &st); err != nil {
		return Status{}, fmt.Errorf("bad monitor message: %w", err)
	}
	return st, nil
}

// Watcher follows a monitor: Current is its status when the watch began,
// and Done receives the final status once init has ended (or an error if
// the monitor went away without saying).
type Watcher struct {
	Current Status
	conn    net.Conn
	r       *bufio.Reader
}

// Watch connects to a running monitor.
func Watch(stateDir, name string) (*Watcher, error) {
	c, r, err := dial(stateDir, name, request{Op: "watch"})
	if err != nil {
		return nil, err
	}
	st, err := readStatus(r)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("read monitor status: %w", err)
	}
	return &Watcher{Current: st, conn: c, r: r}, nil
}

// Wait blocks until init ends and returns the final status. If the
// monitor disappears without a word, the exit record it left is used.
func (w *Watcher) Wait(stateDir, name string) Status {
	defer w.conn.Close()
	for {
		st, err := readStatus(w.r)
		if err != nil {
			return finalFromRecord(stateDir, name, w.Current.Pid)
		}
		if st.Exit != nil {
			return st
		}
	}
}

// Close stops watching.
func (w *Watcher) Close() error { return w.conn.Close() }

// finalFromRecord reads the exit record a monitor wrote before it exited.
func finalFromRecord(stateDir, name string, pid int) Status {
	ex, err := ReadExit(stateDir, name)
	if err != nil {
		return Status{Pid: pid, Exit: &Exit{Code: -1, Error: "monitor ended without reporting how init ended"}}
	}
	return Status{Pid: pid, Exit: ex}
}

// ReadExit reads a monitor's exit record.
func ReadExit(stateDir, name string) (*Exit, error) {
	b, err := os.ReadFile(ExitPath(stateDir, name))
	if err != nil {
		return nil, err
	}
	var ex Exit
	if err := json.Unmarshal(b, &ex); err != nil {
		return nil, err
	}
	return &ex, nil
}

// Signal asks the monitor to send sig to init. The monitor is init's
// parent, so it never signals a recycled PID.
func Signal(stateDir, name string, sig syscall.Signal) error {
	c, r, err := dial(stateDir, name, request{Op: "signal", Signal: int(sig)})
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := readStatus(r)
	if err != nil {
		return err
	}
	if st.Error != "" {
		return errors.New(st.Error)
	}
	return nil
}

// OpenConsole connects to console n of the container. After a successful
// open the connection carries the console's raw bytes in both directions;
// force takes the console over from a client already attached.
func OpenConsole(stateDir, name string, n int, force bool) (net.Conn, *bufio.Reader, error) {
	c, r, err := dial(stateDir, name, request{Op: "console", Console: n, Force: force})
	if err != nil {
		return nil, nil, err
	}
	st, err := readStatus(r)
	if err == nil && st.Error != "" {
		err = errors.New(st.Error)
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, r, nil
}
