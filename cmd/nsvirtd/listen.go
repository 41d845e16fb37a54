package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// sockets are the daemon's read-write and read-only listeners, with the
// lock file that makes the socket path ours.
type sockets struct {
	rw, ro net.Listener
	lock   *os.File
	paths  []string
}

// listen takes the socket path for this daemon and binds both sockets:
// path (mode 0700: root only) and path-ro (mode 0777, read-only access).
//
// Ownership of the path is an flock on path.lock: a second daemon on the
// same path fails to take it and refuses to start, instead of unlinking a
// live socket. A socket file left behind by a daemon that died is stale
// once the lock is ours, and is replaced.
func listen(path string) (*sockets, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	lock, err := lockSocketPath(path + ".lock")
	if err != nil {
		return nil, err
	}
	s := &sockets{lock: lock}
	if s.rw, err = bindUnix(path, 0o700); err != nil {
		s.Close()
		return nil, err
	}
	s.paths = append(s.paths, path)
	if s.ro, err = bindUnix(path+"-ro", 0o777); err != nil {
		s.Close()
		return nil, err
	}
	s.paths = append(s.paths, path+"-ro")
	return s, nil
}

func lockSocketPath(lockPath string) (*os.File, error) {
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open socket lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b, _ := os.ReadFile(lockPath)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("socket %s is already served by another nsvirtd (pid %s); refusing to start",
				strings.TrimSuffix(lockPath, ".lock"), strings.TrimSpace(string(b)))
		}
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// bindUnix replaces a stale socket file at path and listens there with the
// given mode. The umask keeps the socket private until the chmod.
func bindUnix(path string, mode os.FileMode) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	old := syscall.Umask(0o077)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("set mode of %s: %w", path, err)
	}
	return ln, nil
}

// Close stops listening, removes the socket files and releases the lock.
func (s *sockets) Close() {
	for _, ln := range []net.Listener{s.rw, s.ro} {
		if ln != nil {
			ln.Close()
		}
	}
	for _, p := range s.paths {
		os.Remove(p)
	}
	if s.lock != nil {
		os.Remove(s.lock.Name())
		s.lock.Close()
	}
}
