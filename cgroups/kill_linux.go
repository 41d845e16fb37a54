package cgroups

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Kill sends SIGKILL to every task of the group and returns as soon as all
// of them are gone. It waits for the kernel's notifications (cgroup.events
// or process descriptors), never for a fixed poll interval. Tasks that the
// unified hierarchy's cgroup.kill did not reach (on a hybrid host they
// may be in the v1 group only) are then killed one by one.
func (g *Group) Kill(ctx context.Context) error {
	if d := g.Dir(""); d != "" {
		f, err := os.OpenFile(filepath.Join(d, "cgroup.kill"), os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString("1")
			f.Close()
		}
		if err == nil {
			if err := g.waitEmpty(ctx); err != nil {
				return err
			}
		}
	}
	return g.signalAll(ctx, unix.SIGKILL, true)
}

// Signal sends sig to every task of the group without waiting.
func (g *Group) Signal(sig unix.Signal) error {
	return g.signalAll(context.Background(), sig, false)
}

// WaitEmpty returns when the group has no task left, or when ctx ends.
func (g *Group) WaitEmpty(ctx context.Context) error { return g.waitEmpty(ctx) }

// signalAll signals each task through a process descriptor, so a PID
// reused meanwhile is never hit, and with wait returns once they all
// exited, repeating for tasks forked in the meantime.
func (g *Group) signalAll(ctx context.Context, sig unix.Signal, wait bool) error {
	for {
		pids, err := g.Pids()
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		var fds []unix.PollFd
		for _, pid := range pids {
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue // already gone
			}
			if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
				unix.Close(fd)
				return fmt.Errorf("signal task %d: %w", pid, err)
			}
			fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
		if !wait {
			closePollFDs(fds)
			return nil
		}
		err = waitExited(ctx, fds)
		closePollFDs(fds)
		if err != nil {
			return err
		}
	}
}

func closePollFDs(fds []unix.PollFd) {
	for _, f := range fds {
		unix.Close(int(f.Fd))
	}
}

// waitExited waits until every process descriptor reports its process has
// exited.
func waitExited(ctx context.Context, fds []unix.PollFd) error {
	pending := append([]unix.PollFd(nil), fds...)
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%d tasks still running: %w", len(pending), err)
		}
		n, err := unix.Poll(pending, pollTimeout(ctx))
		if err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		if n <= 0 {
			continue
		}
		kept := pending[:0]
		for _, p := range pending {
			if p.Revents == 0 {
				p.Revents = 0
				kept = append(kept, p)
			}
		}
		pending = kept
	}
	return nil
}

// pollTimeout returns the time left before ctx's deadline in
// milliseconds, bounded so that a cancelled context is noticed.
func pollTimeout(ctx context.Context) int {
	if dl, ok := ctx.Deadline(); ok {
		return max(int(time.Until(dl)/time.Millisecond), 0)
	}
	return 1000
}

// waitEmpty waits for the unified hierarchy's cgroup.events to report the
// group unpopulated; hosts without it fall back to process descriptors.
func (g *Group) waitEmpty(ctx context.Context) error {
	d := g.Dir("")
	if d == "" {
		return g.waitPids(ctx)
	}
	f, err := os.Open(filepath.Join(d, "cgroup.events"))
	if err != nil {
		return g.waitPids(ctx)
	}
	defer f.Close()
	buf := make([]byte, 256)
	for {
		n, err := f.ReadAt(buf, 0)
		if err != nil && n == 0 {
			return g.waitPids(ctx)
		}
		if strings.Contains(string(buf[:n]), "populated 0") {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("cgroup %s still has tasks: %w", g.path, err)
		}
		pfd := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLPRI}}
		if _, err := unix.Poll(pfd, pollTimeout(ctx)); err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func (g *Group) waitPids(ctx context.Context) error {
	for {
		pids, err := g.Pids()
		if err != nil || len(pids) == 0 {
			return err
		}
		var fds []unix.PollFd
		for _, pid := range pids {
			if fd, err := unix.PidfdOpen(pid, 0); err == nil {
				fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
			}
		}
		err = waitExited(ctx, fds)
		closePollFDs(fds)
		if err != nil {
			return err
		}
	}
}
