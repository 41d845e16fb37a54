package driver

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/nsvirt/nsvirt/cgroups"
	"github.com/nsvirt/nsvirt/driver/monitor"
)

// reconnect finds the containers that kept running while no daemon was
// there: each status file in the state directory names a domain and its
// monitor. A live monitor is watched again; for a dead one, the container
// is cleaned up and its end reported (or, after a reboot, it is started
// again).
func (d *Driver) reconnect() {
	paths, _ := filepath.Glob(filepath.Join(d.cfg.StateDir, "*.xml"))
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".xml")
		st, err := d.loadStatus(path)
		if err != nil || st.live.Def.Name != name {
			d.log.Error("discarding unusable domain status", "path", path, "err", err)
			d.removeStatus(name)
			continue
		}
		d.adopt(name, st)
	}
}

// adopt takes over one running (or just ended) container.
func (d *Driver) adopt(name string, st *savedStatus) {
	dom := d.doms.byNameGet(name)
	if dom == nil {
		dom = newDomain(name, uuidOf(st.live))
		d.doms.add(dom)
	}
	rt := newRuntime(0)
	rt.initPid, rt.monitorPid, rt.info = st.initPid, st.monitorPid, st.info
	rt.info.Autodestroy = false // the connection that asked for it is gone
	rt.net, rt.networks = parsePlumbing(st.info.Net), st.info.Networks
	d.connectNetworks(rt, 1) // uncounted again when it stops
	for _, c := range devices(st.live.Def).Consoles {
		if c.Source != nil && c.Source.Pty != nil {
			rt.consoles = append(rt.consoles, c.Source.Pty.Path)
		}
	}
	if st.info.Cgroup != "" {
		if g, err := d.layout.Group(st.info.Cgroup, cgroups.Resources{}); err == nil {
			rt.group = g
		}
	}
	dom.mu.Lock()
	dom.live, dom.rt, dom.id = st.live, rt, st.initPid
	dom.state, dom.reason = st.state, st.reason
	dom.mu.Unlock()
	w, err := monitor.Watch(d.cfg.StateDir, name)
	if err != nil {
		d.log.Info("container ended while the daemon was away", "domain", name)
		rt.final = finalWithoutMonitor(d, name, rt)
		close(rt.exited)
		if err := dom.lock(context.Background()); err == nil {
			d.finishStop(dom, rt)
			dom.unlock()
		}
		return
	}
	d.log.Info("reconnected to running container", "domain", name, "id", st.initPid)
	d.follow(dom, rt, w)
}

// autostartMarker records that autostart ran since the host booted: like
// libvirt, domains are autostarted once per boot, not at every daemon
// restart (the state directory is normally on a tmpfs).
const autostartMarker = "autostarted"

// autostart starts the domains marked for it, once per host boot.
func (d *Driver) autostart() {
	marker := filepath.Join(d.cfg.StateDir, autostartMarker)
	if _, err := os.Stat(marker); err == nil {
		return
	}
	for _, dom := range d.doms.all() {
		dom.mu.Lock()
		want := dom.autostart && dom.rt == nil && dom.persistent != nil
		ref := dom.refLocked()
		dom.mu.Unlock()
		if !want {
			continue
		}
		if _, err := d.Create(ref, 0, nil, 0); err != nil {
			d.log.Error("autostart failed", "domain", ref.Name, "err", err)
			continue
		}
		d.log.Info("autostarted domain", "domain", ref.Name)
	}
	if f, err := os.Create(marker); err == nil {
		f.Close()
	}
}
