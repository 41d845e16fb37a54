package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// baseDevices are the nodes of every container's /dev (libvirt's set).
var baseDevices = []Device{
	{Path: "/dev/null", Type: 'c', Major: 1, Minor: 3, Mode: 0o666},
	{Path: "/dev/zero", Type: 'c', Major: 1, Minor: 5, Mode: 0o666},
	{Path: "/dev/full", Type: 'c', Major: 1, Minor: 7, Mode: 0o666},
	{Path: "/dev/random", Type: 'c', Major: 1, Minor: 8, Mode: 0o666},
	{Path: "/dev/urandom", Type: 'c', Major: 1, Minor: 9, Mode: 0o666},
	{Path: "/dev/tty", Type: 'c', Major: 5, Minor: 0, Mode: 0o666},
}

// mountDev gives the container a small private /dev: a tmpfs with the
// basic device nodes, a new devpts instance, /dev/shm, the consoles and
// the domain's extra devices.
func mountDev(p *Plan, root string) error {
	dir, err := within(root, "/dev", false)
	if err != nil {
		return fmt.Errorf("prepare /dev: %w", err)
	}
	if err := unix.Mount("devfs", dir, "tmpfs", unix.MS_NOSUID, "mode=755,size=65536"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, d := range append(append([]Device{}, baseDevices...), p.Devices...) {
		if err := makeNode(dir, d, p.UserNS); err != nil {
			return fmt.Errorf("create %s: %w", d.Path, err)
		}
	}
	links := map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
		"stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("create /dev/%s: %w", name, err)
		}
	}
	pts := filepath.Join(dir, "pts")
	if err := os.Mkdir(pts, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("devpts", pts, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC,
		"newinstance,ptmxmode=0666,mode=0620,gid=5"); err != nil {
		return fmt.Errorf("mount /dev/pts: %w", err)
	}
	shm := filepath.Join(dir, "shm")
	if err := os.Mkdir(shm, 0o1777); err != nil {
		return err
	}
	if err := unix.Mount("shm", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	return bindConsoles(p, dir)
}

// makeNode creates a device node. Inside a user namespace the kernel
// refuses mknod, so the host's node is bind-mounted instead; either way
// the devices cgroup decides what the container may open.
func makeNode(dev string, d Device, userNS bool) error {
	path := filepath.Join(dev, filepath.Clean("/" + d.Path)[len("/dev"):])
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	mode := d.Mode
	if mode == 0 {
		mode = 0o600
	}
	kind := uint32(unix.S_IFCHR)
	if d.Type == 'b' {
		kind = unix.S_IFBLK
	}
	if !userNS {
		if err := unix.Mknod(path, kind|mode, int(unix.Mkdev(d.Major, d.Minor))); err != nil {
			return err
		}
		return unix.Chmod(path, mode)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	host := d.Path
	var st unix.Stat_t
	if err := unix.Stat(host, &st); err != nil || st.Rdev != unix.Mkdev(d.Major, d.Minor) {
		host = fmt.Sprintf("/dev/%s/%d:%d", map[byte]string{'b': "block", 'c': "char"}[d.Type], d.Major, d.Minor)
	}
	return unix.Mount(host, path, "", unix.MS_BIND, "")
}

// bindConsoles makes the host pty slaves of the consoles appear as
// /dev/console and /dev/tty1 (the first) and /dev/ttyN (the others).
func bindConsoles(p *Plan, dev string) error {
	for i, slave := range p.Consoles {
		targets := []string{"tty" + strconv.Itoa(i+1)}
		if i == 0 {
			targets = append(targets, "console")
		}
		for _, t := range targets {
			path := filepath.Join(dev, t)
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			f.Close()
			if err := unix.Mount(slave, path, "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("bind console %s on /dev/%s: %w", slave, t, err)
			}
		}
	}
	return nil
}
