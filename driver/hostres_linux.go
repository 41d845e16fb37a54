package driver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Host resources a container start prepares: loop devices for file-backed
// file systems and the console ptys.

// attachLoop binds file to a free loop device with autoclear set, so the
// kernel releases the device once the container's mount is gone and the
// returned descriptor is closed.
func attachLoop(file string, readOnly bool) (*os.File, string, error) {
	flags := os.O_RDWR
	if readOnly {
		flags = os.O_RDONLY
	}
	backing, err := os.OpenFile(file, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("open image %s: %w", file, err)
	}
	defer backing.Close()
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("open /dev/loop-control: %w", err)
	}
	defer ctl.Close()
	for attempt := 0; attempt < 10; attempt++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, "", fmt.Errorf("find a free loop device: %w", err)
		}
		path := "/dev/loop" + strconv.Itoa(n)
		dev, err := os.OpenFile(path, flags|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, "", fmt.Errorf("open %s: %w", path, err)
		}
		cfg := unix.LoopConfig{Fd: uint32(backing.Fd())}
		cfg.Info.Flags = unix.LO_FLAGS_AUTOCLEAR
		if readOnly {
			cfg.Info.Flags |= unix.LO_FLAGS_READ_ONLY
		}
		copy(cfg.Info.File_name[:], file)
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, dev.Fd(), unix.LOOP_CONFIGURE, uintptr(unsafe.Pointer(&cfg)))
		if errno == 0 {
			return dev, path, nil
		}
		dev.Close()
		if !errors.Is(errno, unix.EBUSY) {
			return nil, "", fmt.Errorf("attach %s to %s: %w", file, path, errno)
		}
	}
	return nil, "", fmt.Errorf("attach %s: every free loop device was taken meanwhile", file)
}

// detachLoop releases a loop device if it is still bound (autoclear
// normally has done it already).
func detachLoop(path string) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer f.Close()
	_ = unix.IoctlSetInt(int(f.Fd()), unix.LOOP_CLR_FD, 0)
}

// loopBacking returns the file a loop device is bound to, or "".
func loopBacking(path string) string {
	b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(path), "loop/backing_file"))
	if err != nil {
		return ""
	}
	return string(b)
}

// openPty allocates a host pty pair, like libvirt's console ptys: the
// master stays with the monitor and the slave becomes the container's
// console. The slave's path is what the live XML shows.
func openPty() (master, slave *os.File, path string, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, "", fmt.Errorf("open /dev/ptmx: %w", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, "", fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, "", fmt.Errorf("get pty number: %w", err)
	}
	path = "/dev/pts/" + strconv.Itoa(n)
	s, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		return nil, nil, "", fmt.Errorf("open %s: %w", path, err)
	}
	return m, s, path, nil
}

// deviceNumber returns the type ('b' or 'c') and numbers of a device node.
func deviceNumber(path string) (byte, uint32, uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, 0, fmt.Errorf("device %s: %w", path, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		return 'b', unix.Major(st.Rdev), unix.Minor(st.Rdev), nil
	case unix.S_IFCHR:
		return 'c', unix.Major(st.Rdev), unix.Minor(st.Rdev), nil
	}
	return 0, 0, 0, fmt.Errorf("%s is not a device", path)
}
