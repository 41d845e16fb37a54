package driver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsvirt/nsvirt/driver/monitor"
)

// Shutdown and reboot modes (virDomainShutdownFlagValues,
// virDomainRebootFlagValues), and DESTROY_GRACEFUL.
const (
	ModeInitctl      = 4
	ModeSignal       = 8
	DestroyGraceful  = 1
	gracefulTimeout  = 10 * time.Second
	glibcSIGRTMIN    = 34 // the SIGRTMIN programs such as systemd see
	initctlMagic     = 0x03091969
	initctlRunlevel  = 1
	initctlRequestSz = 384
)

// Destroy stops a domain at once: every task of its cgroup is killed, and
// the call returns as soon as they are all gone. With DestroyGraceful the
// tasks get SIGTERM only, and an error if they do not exit in time.
func (d *Driver) Destroy(ref DomainRef, flags uint32) error {
	if flags&^DestroyGraceful != 0 {
		return unsupportedFlags(flags, "virDomainDestroyFlags")
	}
	return d.withJob(ref, func(dom *domain) error {
		rt, err := runningRuntime(dom)
		if err != nil {
			return err
		}
		if flags&DestroyGraceful != 0 {
			if err := d.terminate(rt); err != nil {
				return err
			}
		} else {
			d.kill(dom.name, rt)
		}
		rt.intent = intentDestroy
		d.waitExit(rt)
		if dom.rt == rt {
			d.finishStop(dom, rt)
		}
		return nil
	})
}

func runningRuntime(dom *domain) (*runtime, error) {
	dom.mu.Lock()
	defer dom.mu.Unlock()
	if dom.rt == nil {
		return nil, errorf(KindOperationInvalid, "domain is not running")
	}
	return dom.rt, nil
}

// kill ends a container: SIGKILL to its init ends its whole PID
// namespace; the cgroup kill also catches tasks that joined the cgroup
// from outside the namespace. A frozen container is thawed so that the
// kill takes effect.
func (d *Driver) kill(name string, rt *runtime) {
	_ = monitor.Signal(d.cfg.StateDir, name, syscall.SIGKILL)
	if rt.group != nil {
		_ = rt.group.Signal(unix.SIGKILL)
		_ = rt.group.Freeze(false)
	}
}

// terminate sends SIGTERM to every task and waits for them to exit.
func (d *Driver) terminate(rt *runtime) error {
	if rt.group == nil {
		return errorf(KindOperationFailed, "the domain has no cgroup to signal")
	}
	if err := rt.group.Signal(unix.SIGTERM); err != nil {
		return errorf(KindSystem, "signal domain tasks: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), gracefulTimeout)
	defer cancel()
	select {
	case <-rt.exited:
		return nil
	case <-ctx.Done():
		return errorf(KindInternal, "Some processes refused to die")
	}
}

// waitExit waits for init to have ended and its monitor to have reported.
func (d *Driver) waitExit(rt *runtime) {
	<-rt.exited
	if rt.proc != nil {
		<-rt.proc.Done()
	}
}

// Shutdown asks a domain's init to power off, following its own
// convention (see shutdownRequest); it returns without waiting.
func (d *Driver) Shutdown(ref DomainRef, flags uint32) error {
	return d.request(ref, flags, false)
}

// Reboot asks a domain's init to reboot; the container then starts again
// with the same live definition.
func (d *Driver) Reboot(ref DomainRef, flags uint32) error {
	return d.request(ref, flags, true)
}

func (d *Driver) request(ref DomainRef, flags uint32, reboot bool) error {
	fn := "virDomainShutdownFlags"
	if reboot {
		fn = "virDomainReboot"
	}
	if flags&^(ModeInitctl|ModeSignal) != 0 {
		return unsupportedFlags(flags, fn)
	}
	return d.withJob(ref, func(dom *domain) error {
		rt, err := runningRuntime(dom)
		if err != nil {
			return err
		}
		intent := intentShutdown
		if reboot {
			intent = intentReboot
		}
		if err := d.sendRequest(dom.name, rt, flags, reboot); err != nil {
			return err
		}
		rt.intent = intent
		return nil
	})
}

// sendRequest delivers a shutdown or reboot request. The initctl FIFO is
// used when the container has one (and always in initctl mode); otherwise
// the signal the running init understands: systemd SIGRTMIN+4/+5, busybox
// SIGUSR2 (poweroff) / SIGTERM (reboot), anything else SIGTERM followed by
// SIGKILL after Config.ShutdownTimeout.
func (d *Driver) sendRequest(name string, rt *runtime, flags uint32, reboot bool) error {
	if flags&ModeSignal == 0 {
		sent, err := sendInitctl(rt.initPid, reboot)
		if err != nil {
			return errorf(KindOperationFailed, "write to the container's initctl pipe: %w", err)
		}
		if sent {
			return nil
		}
		if flags&ModeInitctl != 0 {
			return errorf(KindOperationUnsupported, "Container does not provide an initctl pipe")
		}
	}
	kind := initKind(rt.initPid)
	sig := initSignal(kind, reboot)
	if err := monitor.Signal(d.cfg.StateDir, name, sig); err != nil {
		return errorf(KindOperationFailed, "signal init: %w", err)
	}
	if kind == initOther {
		rt.grace = time.AfterFunc(d.cfg.ShutdownTimeout, func() {
			_ = monitor.Signal(d.cfg.StateDir, name, syscall.SIGKILL)
		})
	}
	return nil
}

type initType int

const (
	initOther initType = iota
	initSystemd
	initBusybox
)

// initKind recognises the init a container runs from its executable and
// command name.
func initKind(pid int) initType {
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	base, name := filepath.Base(strings.TrimSuffix(exe, " (deleted)")), strings.TrimSpace(string(comm))
	switch {
	case base == "systemd" || name == "systemd":
		return initSystemd
	case base == "busybox" && (name == "init" || name == "linuxrc"):
		return initBusybox
	}
	return initOther
}

func initSignal(kind initType, reboot bool) syscall.Signal {
	switch {
	case kind == initSystemd && reboot:
		return glibcSIGRTMIN + 5
	case kind == initSystemd:
		return glibcSIGRTMIN + 4
	case kind == initBusybox && !reboot:
		return syscall.SIGUSR2
	}
	return syscall.SIGTERM
}

// sendInitctl writes a SysV runlevel request (0 or 6) to the container's
// initctl FIFO, looked up inside the container's root so that no symbolic
// link leads outside it. It reports false when there is no FIFO (or only
// the host's own, as with a shared root).
func sendInitctl(pid int, reboot bool) (bool, error) {
	root, err := unix.Open(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, nil
	}
	defer unix.Close(root)
	for _, p := range []string{"run/initctl", "dev/initctl", "etc/.initctl", "var/run/initctl"} {
		fd, err := unix.Openat2(root, p, &unix.OpenHow{
			Flags: unix.O_WRONLY | unix.O_NONBLOCK | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT,
		})
		if err != nil {
			continue
		}
		f := os.NewFile(uintptr(fd), p)
		ok, err := writeInitctl(f, "/"+p, reboot)
		f.Close()
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

func writeInitctl(f *os.File, hostPath string, reboot bool) (bool, error) {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return false, nil
	}
	if host, err := os.Stat(hostPath); err == nil && os.SameFile(host, fi) {
		return false, nil // the host's own init
	}
	req := make([]byte, initctlRequestSz)
	level := byte('0')
	if reboot {
		level = '6'
	}
	binary.NativeEndian.PutUint32(req[0:], initctlMagic)
	binary.NativeEndian.PutUint32(req[4:], initctlRunlevel)
	binary.NativeEndian.PutUint32(req[8:], uint32(level))
	if _, err := f.Write(req); err != nil {
		if errors.Is(err, unix.ENXIO) {
			return false, nil // no reader: nobody listens on it
		}
		return false, err
	}
	return true, nil
}
