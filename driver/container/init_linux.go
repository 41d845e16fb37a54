package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Main is the init helper's entry point. os.Args[2] is the descriptor of
// the sync socket shared with the daemon: the helper reads its Plan from
// it (which is also the daemon's signal that the cgroups and network are
// ready). Right before it execs init it writes {"exec":true}; a failure
// writes {"error": ...}. The socket is close-on-exec, so the daemon sees
// end-of-file once init runs; end-of-file without the exec message means
// the helper died.
//
// The caller must have locked the main goroutine to its OS thread before
// any other goroutine ran (cmd/nsvirtd does it in init()): setns,
// capabilities and the bounding set are per-thread, and the thread that
// does them must be the one that execs init, so it carries them into the
// container.
func Main() {
	fd, err := strconv.Atoi(argOr(2, ""))
	if err != nil {
		fmt.Fprintln(os.Stderr, "nsvirt init: missing sync descriptor")
		os.Exit(2)
	}
	sync := os.NewFile(uintptr(fd), "sync")
	// Everything from the sync socket up is ours; below it are the
	// descriptors passed to init on purpose (3, 4, ...).
	_ = unix.CloseRange(uint(fd), math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	plan, err := ReadPlan(sync)
	if err == nil {
		syncConn = sync
		err = run(plan)
	}
	// run returns only on failure: on success it has exec'd init.
	msg, _ := json.Marshal(map[string]string{"error": err.Error()})
	sync.Write(msg)
	os.Exit(1)
}

// syncConn is the sync socket, for the message sent right before exec.
var syncConn *os.File

// ExecMessage is what the helper writes right before it execs init.
const ExecMessage = `{"exec":true}`

func argOr(i int, def string) string {
	if len(os.Args) > i {
		return os.Args[i]
	}
	return def
}

// run builds the container and execs its init.
func run(p *Plan) error {
	unix.Umask(0o022)
	if err := joinNamespaces(p); err != nil {
		return err
	}
	if p.UserNS {
		// Inside a new user namespace the helper starts as the overflow
		// user; become the namespace's root, as libvirt's init does.
		if err := syscall.Setresgid(0, 0, 0); err != nil {
			return fmt.Errorf("become root group of the user namespace: %w", err)
		}
		if err := syscall.Setresuid(0, 0, 0); err != nil {
			return fmt.Errorf("become root of the user namespace: %w", err)
		}
	}
	// The daemon moved this process into the domain's cgroup before it
	// sent the plan; a new cgroup namespace now makes that cgroup the
	// container's root, so it cannot see or reach the host's tree.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("create cgroup namespace: %w", err)
	}
	root, err := buildRoot(p)
	if err != nil {
		return err
	}
	if err := pivot(root); err != nil {
		return err
	}
	if p.Hostname != "" {
		if err := unix.Sethostname([]byte(p.Hostname)); err != nil {
			return fmt.Errorf("set hostname: %w", err)
		}
	}
	if p.NetNS {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	return execInit(p)
}

// joinNamespaces enters the namespaces shared with other containers
// (<lxc:namespace>). Entering a network, IPC or UTS namespace changes only
// the calling thread; this thread is locked and is the one that execs
// init, so init inherits them.
func joinNamespaces(p *Plan) error {
	for _, ns := range []struct {
		path string
		kind int
		name string
	}{
		{p.ShareNet, unix.CLONE_NEWNET, "network"},
		{p.ShareIPC, unix.CLONE_NEWIPC, "IPC"},
		{p.ShareUTS, unix.CLONE_NEWUTS, "UTS"},
	} {
		if ns.path == "" {
			continue
		}
		fd, err := unix.Open(ns.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s namespace %s: %w", ns.name, ns.path, err)
		}
		err = unix.Setns(fd, ns.kind)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("join %s namespace %s: %w", ns.name, ns.path, err)
		}
	}
	return nil
}

// pivot makes root the root of the mount namespace and detaches the old
// root entirely.
func pivot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("enter root %s: %w", root, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one; the
	// detach then drops it without needing a directory for it.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root to %s: %w", root, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
}

// execInit takes the init user's identity and replaces the helper with the
// domain's init.
func execInit(p *Plan) error {
	if len(p.Init) == 0 {
		return errors.New("no init command")
	}
	path := p.Init[0]
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		return fmt.Errorf("cannot find init path '%s' relative to container root", path)
	}
	id, err := resolveIdentity(p.User, p.Group)
	if err != nil {
		return err
	}
	if err := dropCapabilities(p.Caps); err != nil {
		return err
	}
	if err := id.apply(p.Consoles); err != nil {
		return err
	}
	dir := p.Dir
	if dir == "" {
		dir = "/"
	}
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("change to init directory %s: %w", dir, err)
	}
	syncConn.Write([]byte(ExecMessage + "\n"))
	if err := unix.Exec(path, p.Init, p.Env); err != nil {
		return fmt.Errorf("execute init %s: %w", path, err)
	}
	return nil
}
