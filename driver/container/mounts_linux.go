package container

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	mountNoExec = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
)

// buildRoot prepares the container's root file system under its host path
// and returns that path, ready for pivot_root. Everything happens in the
// helper's private mount namespace: nothing propagates to the host.
func buildRoot(p *Plan) (string, error) {
	// No propagation in either direction: the host's later unmounts (Nova
	// unmounts the image it mounted for us) must not reach the container.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return "", fmt.Errorf("make mounts private: %w", err)
	}
	root := p.Root.Source
	switch {
	case p.Root.Device != "":
		root = p.Root.Staging
		if err := mountDevice(p.Root.Device, root, false); err != nil {
			return "", fmt.Errorf("mount root device %s: %w", p.Root.Device, err)
		}
	case root == "/":
		// The host's tree, recursively, at a directory of our own: the
		// helper keeps its own view of / (and of /proc) while it works.
		root = p.Root.Staging
		if err := unix.Mount("/", root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return "", fmt.Errorf("bind the host root: %w", err)
		}
	default:
		fi, err := os.Stat(root)
		if errors.Is(err, os.ErrPermission) {
			return "", fmt.Errorf("root filesystem %s is not accessible to the container's root user: %w", root, err)
		}
		if err != nil || !fi.IsDir() {
			return "", fmt.Errorf("root filesystem %s does not exist", root)
		}
		// pivot_root needs the new root to be a mount point of its own.
		if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return "", fmt.Errorf("bind root %s: %w", root, err)
		}
	}
	// A root shared with the host (or any root with these mounted) comes
	// with the host's /proc, /sys and /dev; the container gets its own,
	// and the kernel refuses a second sysfs on top of the same one.
	for _, dir := range []string{"proc", "sys", "dev"} {
		_ = unix.Unmount(filepath.Join(root, dir), unix.MNT_DETACH)
	}
	steps := []struct {
		name string
		fn   func(p *Plan, root string) error
	}{
		{"proc", mountProc},
		{"sys", mountSys},
		{"dev", mountDev},
		{"filesystems", mountFilesystems},
	}
	for _, s := range steps {
		if err := s.fn(p, root); err != nil {
			return "", err
		}
	}
	if p.Root.ReadOnly {
		if err := remountReadOnly(root); err != nil {
			return "", fmt.Errorf("make root read-only: %w", err)
		}
	}
	return root, nil
}

// remountReadOnly makes one mount point read-only. Read-only mounts are a
// bind remount of the mount, never MS_RDONLY on the file system itself,
// which could be shared with the host.
func remountReadOnly(path string) error {
	return unix.Mount("", path, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|readOnlyKeep(path), "")
}

// readOnlyKeep returns the flags a bind remount must repeat for it to be
// allowed (locked flags such as nosuid of the existing mount).
func readOnlyKeep(path string) uintptr {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0
	}
	var f uintptr
	for _, m := range []struct{ st, ms uintptr }{
		{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC}, {unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if uintptr(st.Flags)&m.st != 0 {
			f |= m.ms
		}
	}
	return f
}

// within returns the host path of the container path target under root,
// creating it (a directory, or an empty file when isFile) if needed.
// Components are resolved inside root, so a symbolic link in the
// container's tree cannot send a mount outside it.
func within(root, target string, isFile bool) (string, error) {
	rel := strings.TrimPrefix(filepath.Clean("/"+target), "/")
	if rel == "" {
		return root, nil
	}
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(rootFD)
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	parts := strings.Split(rel, "/")
	for i := range parts {
		sub := strings.Join(parts[:i+1], "/")
		fd, err := unix.Openat2(rootFD, sub, how)
		if err == nil {
			unix.Close(fd)
			continue
		}
		if !errors.Is(err, unix.ENOENT) {
			return "", fmt.Errorf("resolve %s: %w", target, err)
		}
		parent, err := resolvedPath(rootFD, strings.Join(parts[:i], "/"), root)
		if err != nil {
			return "", err
		}
		p := filepath.Join(parent, parts[i])
		if i == len(parts)-1 && isFile {
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return "", err
			}
			f.Close()
		} else if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return resolvedPath(rootFD, rel, root)
}

// resolvedPath resolves rel inside root and returns the real host path.
func resolvedPath(rootFD int, rel, root string) (string, error) {
	if rel == "" {
		return root, nil
	}
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(rootFD, rel, how)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	return os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
}

func mountProc(p *Plan, root string) error {
	dir, err := within(root, "/proc", false)
	if err != nil {
		return fmt.Errorf("prepare /proc: %w", err)
	}
	if err := unix.Mount("proc", dir, "proc", mountNoExec, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	sys := filepath.Join(dir, "sys")
	if err := unix.Mount(sys, sys, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind /proc/sys: %w", err)
	}
	if p.NetNS {
		// With its own network namespace the container may tune its
		// network: these stay writable under the read-only /proc/sys.
		for _, n := range []string{"net/ipv4", "net/ipv6"} {
			d := filepath.Join(sys, n)
			if _, err := os.Stat(d); err != nil {
				continue
			}
			if err := unix.Mount(d, d, "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("bind /proc/sys/%s: %w", n, err)
			}
		}
	}
	if err := remountReadOnly(sys); err != nil {
		return fmt.Errorf("make /proc/sys read-only: %w", err)
	}
	return nil
}

func mountSys(p *Plan, root string) error {
	dir, err := within(root, "/sys", false)
	if err != nil {
		return fmt.Errorf("prepare /sys: %w", err)
	}
	if p.UserNS && !p.NetNS {
		// The kernel refuses a fresh sysfs to a user namespace that does
		// not own its network namespace.
		if err := unix.Mount("/sys", dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind /sys: %w", err)
		}
	} else if err := unix.Mount("sysfs", dir, "sysfs", mountNoExec, ""); err != nil {
		return fmt.Errorf("mount /sys: %w", err)
	}
	if err := mountCgroups(p, filepath.Join(dir, "fs/cgroup")); err != nil {
		return err
	}
	return remountReadOnly(dir)
}

// mountCgroups shows the container's own cgroups under /sys/fs/cgroup.
// The helper is in its own cgroup namespace, so a cgroup file system
// mounted here has the container's cgroup as its root.
func mountCgroups(p *Plan, dir string) error {
	if p.Cgroup.Unified == "." {
		if err := unix.Mount("cgroup2", dir, "cgroup2", mountNoExec, ""); err != nil {
			return fmt.Errorf("mount cgroup2 at /sys/fs/cgroup: %w", err)
		}
		return nil
	}
	if err := unix.Mount("cgroup", dir, "tmpfs", mountNoExec, "mode=755,size=64k"); err != nil {
		return fmt.Errorf("mount /sys/fs/cgroup: %w", err)
	}
	for _, opts := range p.Cgroup.V1 {
		sub := filepath.Join(dir, strings.TrimPrefix(opts, "name="))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("cgroup", sub, "cgroup", mountNoExec, opts); err != nil {
			return fmt.Errorf("mount cgroup %s: %w", opts, err)
		}
	}
	if p.Cgroup.Unified != "" {
		sub := filepath.Join(dir, p.Cgroup.Unified)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("cgroup2", sub, "cgroup2", mountNoExec, ""); err != nil {
			return fmt.Errorf("mount cgroup2 at /sys/fs/cgroup/%s: %w", p.Cgroup.Unified, err)
		}
	}
	return remountReadOnly(dir)
}

// mountFilesystems mounts the domain's file systems in definition order.
func mountFilesystems(p *Plan, root string) error {
	for _, m := range p.Mounts {
		if err := mountOne(root, m); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.Source, m.Target, err)
		}
	}
	return nil
}

func mountOne(root string, m Mount) error {
	switch m.Kind {
	case MountBind, MountInner:
		src := m.Source
		if m.Kind == MountInner {
			var err error
			if src, err = within(root, m.Source, false); err != nil {
				return err
			}
		}
		fi, err := os.Stat(src)
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("source %s is not accessible to the container's root user", m.Source)
		}
		if err != nil {
			return fmt.Errorf("source %s does not exist", m.Source)
		}
		dst, err := within(root, m.Target, !fi.IsDir())
		if err != nil {
			return err
		}
		if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return err
		}
		if m.ReadOnly {
			return remountReadOnly(dst)
		}
	case MountTmpfs:
		dst, err := within(root, m.Target, false)
		if err != nil {
			return err
		}
		flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV)
		if m.ReadOnly {
			flags |= unix.MS_RDONLY
		}
		return unix.Mount("tmpfs", dst, "tmpfs", flags, "size="+strconv.FormatUint(m.Size, 10))
	case MountDevice:
		dst, err := within(root, m.Target, false)
		if err != nil {
			return err
		}
		return mountDevice(m.Source, dst, m.ReadOnly)
	default:
		return fmt.Errorf("unknown mount kind %q", m.Kind)
	}
	return nil
}

// mountDevice mounts a block device, trying each block file system type
// the kernel knows until one accepts it (libvirt's fallback without
// libblkid).
func mountDevice(dev, dst string, readOnly bool) error {
	var flags uintptr
	if readOnly {
		flags = unix.MS_RDONLY
	}
	types, err := blockFilesystems()
	if err != nil {
		return err
	}
	var last error = errors.New("no block file system types known")
	for _, t := range types {
		if last = unix.Mount(dev, dst, t, flags, ""); last == nil {
			return nil
		}
	}
	return fmt.Errorf("no file system type accepts %s: %w", dev, last)
}

func blockFilesystems() ([]string, error) {
	f, err := os.Open("/proc/filesystems")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 1 {
			out = append(out, fields[0])
		}
	}
	return out, sc.Err()
}
