package dnsmasq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Files Start writes in its directory, and the defaults for the paths
// left empty in a Config.
const (
	ConfName      = "dnsmasq.conf"
	PidName       = "dnsmasq.pid"
	LeaseName     = "dnsmasq.leases"
	HostsName     = "dnsmasq.hostsfile"
	AddnHostsName = "dnsmasq.addnhosts"
)

// Binary is where dnsmasq is looked for when it is not on PATH.
const Binary = "/usr/sbin/dnsmasq"

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 5 * time.Second
)

// ErrRunning is returned by [Start] when the directory's dnsmasq is
// already running.
var ErrRunning = errors.New("dnsmasq already running")

// Process is a started dnsmasq.
type Process struct {
	// Dir is the directory given to [Start]; [Stop], [Running] and
	// [Reload] take it to find the process again.
	Dir string
	// Pid is the daemon's process ID.
	Pid int
	// Config is the configuration it runs, with the paths filled in.
	Config Config
}

// WithPaths returns c with the paths left empty set to files in dir.
func (c Config) WithPaths(dir string) Config {
	set := func(p *string, name string) {
		if *p == "" {
			*p = filepath.Join(dir, name)
		}
	}
	set(&c.PidFile, PidName)
	set(&c.LeaseFile, LeaseName)
	set(&c.HostsFile, HostsName)
	set(&c.AddnHostsFile, AddnHostsName)
	return c
}

// Start writes cfg's files into dir (created if needed; it must be an
// absolute path readable by dnsmasq's user) and starts dnsmasq on them as a
// daemon, which keeps running if nsvirtd exits. It returns once dnsmasq
// has bound its sockets and written its pid file; dnsmasq's own error
// message is in the error if it fails to start. An existing lease file is
// kept, so guests keep their addresses across a restart.
func Start(cfg Config, dir string) (*Process, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("start dnsmasq for network %q: directory %q is not absolute", cfg.Name, dir)
	}
	cfg = cfg.WithPaths(dir)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if pid, err := find(dir); err == nil {
		return nil, fmt.Errorf("start dnsmasq for network %q on %s: %w (pid %d)", cfg.Name, cfg.Bridge, ErrRunning, pid)
	}
	if err := writeFiles(cfg, dir); err != nil {
		return nil, fmt.Errorf("start dnsmasq for network %q: %w", cfg.Name, err)
	}
	if err := os.Remove(cfg.PidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("start dnsmasq for network %q: %w", cfg.Name, err)
	}
	if err := daemonize(dir); err != nil {
		return nil, fmt.Errorf("start dnsmasq for network %q on %s: %w", cfg.Name, cfg.Bridge, err)
	}
	pid, err := awaitPid(dir)
	if err != nil {
		return nil, fmt.Errorf("start dnsmasq for network %q on %s: %w", cfg.Name, cfg.Bridge, err)
	}
	return &Process{Dir: dir, Pid: pid, Config: cfg}, nil
}

// awaitPid finds the daemon just started in dir. dnsmasq writes its pid
// file before its first process exits, so this normally succeeds at once.
func awaitPid(dir string) (int, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		pid, err := find(dir)
		if err == nil || time.Now().After(deadline) {
			return pid, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeFiles writes the hosts files and the configuration, each
// atomically.
func writeFiles(cfg Config, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeHosts(cfg); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, ConfName), cfg.Conf())
}

func writeHosts(cfg Config) error {
	if err := writeAtomic(cfg.HostsFile, HostsFile(cfg.Hosts)); err != nil {
		return err
	}
	return writeAtomic(cfg.AddnHostsFile, AddnHosts(cfg.DNSHosts))
}

func writeAtomic(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// daemonize runs dnsmasq, which forks into the background and exits
// after the daemon has set up or failed.
func daemonize(dir string) error {
	bin, err := binary()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, confArg(dir))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second // the daemon must not hold our pipe open
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%s: %w: %s", bin, err, msg)
		}
		return fmt.Errorf("%s: %w", bin, err)
	}
	return nil
}

func binary() (string, error) {
	if p, err := exec.LookPath("dnsmasq"); err == nil {
		return p, nil
	}
	if _, err := os.Stat(Binary); err != nil {
		return "", fmt.Errorf("dnsmasq not found (install dnsmasq-base): %w", err)
	}
	return Binary, nil
}

// confArg is the argument that names dir's configuration; it is also what
// identifies the process as ours.
func confArg(dir string) string {
	return "--conf-file=" + filepath.Join(filepath.Clean(dir), ConfName)
}

// UpdateHosts rewrites the static hosts and extra DNS names of the
// dnsmasq running in dir from cfg, and makes it re-read them.
func UpdateHosts(cfg Config, dir string) error {
	cfg = cfg.WithPaths(dir)
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := writeHosts(cfg); err != nil {
		return fmt.Errorf("update dnsmasq hosts of network %q: %w", cfg.Name, err)
	}
	if err := Reload(dir); err != nil {
		return fmt.Errorf("network %q: %w", cfg.Name, err)
	}
	return nil
}

// Reload sends SIGHUP to the dnsmasq running in dir, which re-reads the
// dhcp-hostsfile and addn-hosts files (not its configuration).
func Reload(dir string) error {
	return signal(dir, unix.SIGHUP)
}

// signal sends sig to the dnsmasq of dir, if it is ours.
func signal(dir string, sig unix.Signal) error {
	p, err := open(dir)
	if err != nil {
		return fmt.Errorf("signal dnsmasq in %s: %w", dir, err)
	}
	defer unix.Close(p.fd)
	if err := unix.PidfdSendSignal(p.fd, sig, nil, 0); err != nil {
		return fmt.Errorf("signal dnsmasq in %s (pid %d): %w", dir, p.pid, err)
	}
	return nil
}

// Running reports whether the dnsmasq started in dir is running.
func Running(dir string) bool {
	_, err := find(dir)
	return err == nil
}

// Stop stops the dnsmasq started in dir, waiting for it to exit (SIGTERM,
// then SIGKILL after a few seconds), and removes its pid file. If the pid
// file is missing or names a process that is not this directory's
// dnsmasq, nothing is signalled and Stop succeeds.
func Stop(dir string) error {
	p, err := open(dir)
	if errors.Is(err, errNotRunning) {
		return removePidFile(dir)
	}
	if err != nil {
		return fmt.Errorf("stop dnsmasq in %s: %w", dir, err)
	}
	defer unix.Close(p.fd)
	if err := p.terminate(); err != nil {
		return fmt.Errorf("stop dnsmasq in %s (pid %d): %w", dir, p.pid, err)
	}
	return removePidFile(dir)
}

// Stop stops the process; see the package function [Stop].
func (p *Process) Stop() error { return Stop(p.Dir) }

func removePidFile(dir string) error {
	if err := os.Remove(pidFile(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stop dnsmasq in %s: %w", dir, err)
	}
	return nil
}

// errNotRunning says the directory has no live dnsmasq of ours.
var errNotRunning = errors.New("dnsmasq not running")

// pidfdProc is a verified dnsmasq, held by a pidfd so that signals cannot
// reach another process that reused the pid.
type pidfdProc struct {
	pid, fd int
}

// find returns the pid of dir's running dnsmasq.
func find(dir string) (int, error) {
	p, err := open(dir)
	if err != nil {
		return 0, err
	}
	unix.Close(p.fd)
	return p.pid, nil
}

// open reads dir's pid file, takes a pidfd for the process and checks that
// its command line is dnsmasq with dir's configuration file; it returns
// errNotRunning otherwise.
func open(dir string) (pidfdProc, error) {
	b, err := os.ReadFile(pidFile(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return pidfdProc{}, errNotRunning
	}
	if err != nil {
		return pidfdProc{}, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return pidfdProc{}, fmt.Errorf("%w: bad pid file %s", errNotRunning, pidFile(dir))
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return pidfdProc{}, fmt.Errorf("%w: pid %d: %w", errNotRunning, pid, err)
	}
	// The pidfd came first: if pid was reused since, the command line
	// check fails or the pidfd's process is already gone.
	if !isOurs(pid, dir) || unix.PidfdSendSignal(fd, 0, nil, 0) != nil {
		unix.Close(fd)
		return pidfdProc{}, fmt.Errorf("%w: pid %d is not dnsmasq of %s", errNotRunning, pid, dir)
	}
	return pidfdProc{pid: pid, fd: fd}, nil
}

// isOurs reports whether process pid is dnsmasq started with dir's
// configuration file.
func isOurs(pid int, dir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(args) < 2 || filepath.Base(args[0]) != "dnsmasq" {
		return false
	}
	want := confArg(dir)
	for _, a := range args[1:] {
		if a == want {
			return true
		}
	}
	return false
}

// terminate sends SIGTERM, then SIGKILL, and waits for the exit.
func (p pidfdProc) terminate() error {
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGKILL} {
		if err := unix.PidfdSendSignal(p.fd, sig, nil, 0); err != nil {
			if errors.Is(err, unix.ESRCH) {
				return nil
			}
			return err
		}
		if exited, err := waitPidfd(p.fd, stopTimeout); err != nil || exited {
			return err
		}
	}
	return fmt.Errorf("still running %v after SIGKILL", stopTimeout)
}

// waitPidfd waits until the process behind fd exits, up to timeout.
func waitPidfd(fd int, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			return false, nil
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, err
		}
		return n > 0, nil
	}
}

// pidFile is the pid file named in dir's configuration, or the default.
func pidFile(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, ConfName))
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "pid-file="); ok {
				return v
			}
		}
	}
	return filepath.Join(dir, PidName)
}
