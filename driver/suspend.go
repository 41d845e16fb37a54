package driver

// Suspend freezes every task of a running domain through the cgroup
// freezer (v1 freezer.state, v2 cgroup.freeze) and waits until the kernel
// reports the group frozen. The domain is then paused (user). Suspending
// a paused domain does nothing, as in libvirt.
func (d *Driver) Suspend(ref DomainRef) error {
	return d.withJob(ref, func(dom *domain) error { return d.suspend(dom) })
}

// suspend does Suspend's work; the caller holds dom's job lock.
func (d *Driver) suspend(dom *domain) error {
	rt, paused, err := pauseState(dom)
	if err != nil || paused {
		return err
	}
	if rt.group == nil {
		return errorf(KindOperationFailed, "suspend %s: the domain has no cgroup to freeze", dom.name)
	}
	if err := rt.group.Freeze(true); err != nil {
		_ = rt.group.Freeze(false)
		return errorf(KindOperationFailed, "suspend %s: freeze its cgroup: %w", dom.name, err)
	}
	d.setRunState(dom, StatePaused, ReasonPausedUser, LifecycleEvent{Event: EventSuspended, Detail: DetailSuspendedPaused})
	return nil
}

// Resume thaws a paused domain, which is then running (unpaused).
// Resuming a running domain does nothing.
func (d *Driver) Resume(ref DomainRef) error {
	return d.withJob(ref, func(dom *domain) error {
		rt, paused, err := pauseState(dom)
		if err != nil || !paused {
			return err
		}
		if rt.group == nil {
			return errorf(KindOperationFailed, "resume %s: the domain has no cgroup to thaw", dom.name)
		}
		if err := rt.group.Freeze(false); err != nil {
			return errorf(KindOperationFailed, "resume %s: thaw its cgroup: %w", dom.name, err)
		}
		d.setRunState(dom, StateRunning, ReasonRunningUnpause, LifecycleEvent{Event: EventResumed, Detail: DetailResumedUnpaused})
		return nil
	})
}

// pauseState returns a running domain's runtime and whether it is paused.
func pauseState(dom *domain) (*runtime, bool, error) {
	rt, err := runningRuntime(dom)
	if err != nil {
		return nil, false, err
	}
	dom.mu.Lock()
	defer dom.mu.Unlock()
	return rt, dom.state == StatePaused, nil
}

// setRunState records a running domain's new state, saves its status and
// emits ev for it.
func (d *Driver) setRunState(dom *domain, state, reason int, ev LifecycleEvent) {
	dom.mu.Lock()
	defer dom.mu.Unlock()
	dom.state, dom.reason = state, reason
	if err := d.saveStatus(dom); err != nil {
		d.log.Error("save domain status", "domain", dom.name, "err", err)
	}
	ev.Dom = dom.refLocked()
	d.events.emit(ev)
}
