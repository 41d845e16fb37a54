package driver

import (
	"context"
	"os"
	"syscall"
	"time"

	"github.com/nsvirt/nsvirt/cgroups"
	"github.com/nsvirt/nsvirt/driver/monitor"
	"github.com/nsvirt/nsvirt/netns"
)

// stopIntent is what the driver asked of a running container, deciding
// how its end is reported.
type stopIntent int

const (
	intentNone stopIntent = iota
	intentShutdown
	intentReboot
	intentDestroy
)

// runtime is what the driver holds for a running domain.
type runtime struct {
	initPid    int
	monitorPid int
	proc       *monitor.Process // nil once the daemon restarted
	group      *cgroups.Group
	info       statusInfo
	consoles   []string        // host pty paths
	owner      uint64          // connection that started it with AUTODESTROY
	net        *netns.Plumbing // the container's network interfaces
	nsFile     *os.File        // the container's network namespace, held open
	networks   []string        // the networks its interfaces use

	intent stopIntent
	grace  *time.Timer

	exited chan struct{} // closed once init has ended
	final  monitor.Status
}

func newRuntime(owner uint64) *runtime {
	return &runtime{owner: owner, exited: make(chan struct{}), info: statusInfo{Autodestroy: owner != 0}}
}

// watch follows the domain's monitor until init ends.
func (d *Driver) watch(dom *domain, rt *runtime) {
	w, err := monitor.Watch(d.cfg.StateDir, dom.name)
	if err != nil {
		w = nil
	}
	d.follow(dom, rt, w)
}

// follow waits, in the background, for the end of init that w watches
// (nil: the monitor is already gone), then finishes the stop unless an
// operation holding the job lock (destroy) already did.
func (d *Driver) follow(dom *domain, rt *runtime, w *monitor.Watcher) {
	go func() {
		if w == nil {
			rt.final = finalWithoutMonitor(d, dom.name, rt)
		} else {
			rt.final = w.Wait(d.cfg.StateDir, dom.name)
		}
		close(rt.exited)
		if rt.proc != nil {
			<-rt.proc.Done()
		}
		if lockErr := dom.lock(context.Background()); lockErr != nil {
			d.log.Error("domain stopped but its job lock is held", "domain", dom.name)
			return
		}
		defer dom.unlock()
		if dom.rt == rt {
			d.finishStop(dom, rt)
		}
	}()
}

// finalWithoutMonitor reports the end of a container whose monitor is
// gone without a watch.
func finalWithoutMonitor(d *Driver, name string, rt *runtime) monitor.Status {
	if ex, err := monitor.ReadExit(d.cfg.StateDir, name); err == nil {
		return monitor.Status{Pid: rt.initPid, Exit: ex}
	}
	return monitor.Status{Pid: rt.initPid, Exit: &monitor.Exit{Code: -1, Error: "the container's monitor is gone"}}
}

// finishStop cleans up after init ended and reports the stop: or, after a
// reboot, starts the container again with the same live definition. The
// caller holds dom's job lock.
func (d *Driver) finishStop(dom *domain, rt *runtime) {
	if rt.grace != nil {
		rt.grace.Stop()
	}
	d.release(dom.name, rt)
	ex := rt.final.Exit
	if ex == nil {
		ex = &monitor.Exit{Code: -1}
	}
	reboot := rt.intent != intentDestroy && (rt.intent == intentReboot || ex.Reboot())
	detail, reason := stopDetail(rt.intent, ex)
	d.log.Info("container stopped", "domain", dom.name, "id", rt.initPid,
		"exit", ex.Code, "signal", ex.Signal, "error", ex.Error, "reboot", reboot)
	dom.mu.Lock()
	live := dom.live
	dom.rt = nil
	if !reboot {
		d.markStopped(dom, reason, detail)
	}
	// While a rebooting container restarts, the domain stays running
	// to every observer (the job lock holds operations back).
	dom.mu.Unlock()
	if !reboot {
		return
	}
	// A reboot restarts the container with the definition it ran with;
	// like libvirt, it reports a reboot event, not a stop and a start.
	if err := d.start(dom, live, startOptions{owner: rt.owner, reboot: true}); err != nil {
		d.log.Error("restart after reboot failed", "domain", dom.name, "err", err)
		dom.mu.Lock()
		d.markStopped(dom, ReasonShutoffFailed, DetailStoppedFailed)
		dom.mu.Unlock()
	}
}

// markStopped records that a domain is shut off and reports it; a
// transient domain disappears. Call with dom.mu held.
func (d *Driver) markStopped(dom *domain, reason, detail int) {
	dom.live, dom.rt, dom.id = nil, nil, -1
	dom.state, dom.reason, dom.updated = StateShutoff, reason, false
	d.events.emit(LifecycleEvent{Dom: dom.refLocked(), Event: EventStopped, Detail: int32(detail)})
	if dom.persistent == nil {
		d.doms.remove(dom)
	}
}

// stopDetail maps how a container ended to libvirt's event detail and
// shutoff reason.
func stopDetail(intent stopIntent, ex *monitor.Exit) (int, int) {
	switch {
	case intent == intentDestroy:
		return DetailStoppedDestroyed, ReasonShutoffDestroyed
	case intent == intentShutdown:
		return DetailStoppedShutdown, ReasonShutoffShutdown
	case ex.Error == "" && (ex.Code == 0 || ex.Signal == int(syscall.SIGINT) || ex.Signal == int(syscall.SIGTERM)):
		// init exited, or a poweroff inside the PID namespace ended it.
		return DetailStoppedShutdown, ReasonShutoffShutdown
	}
	return DetailStoppedFailed, ReasonShutoffFailed
}

// release removes what a stopped container held on the host: stray tasks
// and the cgroup, loop devices and state files.
func (d *Driver) release(name string, rt *runtime) {
	d.teardownNetwork(name, rt)
	if rt.group != nil {
		d.removeCgroup(rt.group)
	}
	for _, dev := range rt.info.Loops {
		detachLoop(dev)
	}
	d.removeStatus(name)
}

// removeCgroup kills whatever is left in a domain's cgroup and removes it.
func (d *Driver) removeCgroup(g *cgroups.Group) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = g.Freeze(false)
	if err := g.Kill(ctx); err != nil {
		d.log.Error("kill cgroup tasks", "cgroup", g.Path(), "err", err)
	}
	if err := g.Destroy(); err != nil {
		d.log.Error("remove cgroup", "cgroup", g.Path(), "err", err)
	}
}

// takeSpare returns a monitor that is already running and waiting, and
// has a new one started for the next container: the monitor's exec and
// runtime start-up are then off every start's critical path.
func (d *Driver) takeSpare() (*monitor.Spare, error) {
	defer func() { go d.refillSpare() }()
	select {
	case s := <-d.spare:
		return s, nil
	default:
		return monitor.StartSpare(d.exe, d.cfg.StateDir)
	}
}

func (d *Driver) refillSpare() {
	s, err := monitor.StartSpare(d.exe, d.cfg.StateDir)
	if err != nil {
		d.log.Warn("start a spare monitor", "err", err)
		return
	}
	select {
	case d.spare <- s:
	default:
		s.Discard()
	}
}

// CloseSession releases what a client connection held: domains it started
// with AUTODESTROY are destroyed.
func (d *Driver) CloseSession(id uint64) {
	for _, dom := range d.doms.all() {
		dom.mu.Lock()
		owned := dom.rt != nil && dom.rt.owner == id
		ref := dom.refLocked()
		dom.mu.Unlock()
		if owned {
			if err := d.Destroy(ref, 0); err != nil {
				d.log.Error("destroy autodestroy domain", "domain", ref.Name, "err", err)
			}
		}
	}
}
