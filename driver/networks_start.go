package driver

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/nsvirt/nsvirt/netns"
	"github.com/nsvirt/nsvirt/netns/dnsmasq"
	"github.com/nsvirt/nsvirt/netns/nat"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// NetworkCreate starts an inactive network (virNetworkCreate).
func (d *Driver) NetworkCreate(ref NetworkRef) error {
	return d.withNetworkJob(ref, func(n *network) error {
		n.mu.Lock()
		active, def := n.live != nil, n.persistent
		n.mu.Unlock()
		if active {
			return errorf(KindOperationInvalid, "network is already active")
		}
		if err := d.startNetwork(n, def); err != nil {
			return err
		}
		d.emitNetwork(n.ref(), NetEventStarted)
		return nil
	})
}

// NetworkDestroy stops an active network (virNetworkDestroy). A transient
// network disappears.
func (d *Driver) NetworkDestroy(ref NetworkRef) error {
	return d.withNetworkJob(ref, func(n *network) error {
		n.mu.Lock()
		live := n.live
		n.mu.Unlock()
		if live == nil {
			return errorf(KindOperationInvalid, "network '%s' is not active", n.name)
		}
		d.stopNetwork(n)
		return nil
	})
}

// startNetwork brings def up as n's live definition. The caller holds n's
// job lock.
func (d *Driver) startNetwork(n *network, def *xmlconf.Network) error {
	live := def.Started()
	t0 := time.Now()
	if err := d.plumbNetwork(live); err != nil {
		return err
	}
	n.mu.Lock()
	n.live, n.connections = live, 0
	n.mu.Unlock()
	d.log.Info("started network", "network", n.name, "bridge", bridgeOf(live), "took", time.Since(t0))
	return nil
}

// stopNetwork takes n's plumbing down and marks it inactive; a transient
// network leaves the registry. Failures are logged, as libvirt logs them:
// the network is stopped in any case. The caller holds n's job lock.
func (d *Driver) stopNetwork(n *network) {
	n.mu.Lock()
	live := n.live
	n.mu.Unlock()
	d.unplumbNetwork(live)
	n.mu.Lock()
	n.live, n.connections = nil, 0
	gone := n.persistent == nil
	ref := NetworkRef{Name: n.name, UUID: n.uuid}
	n.mu.Unlock()
	if gone {
		d.forgetNetwork(n)
	}
	d.log.Info("stopped network", "network", ref.Name)
	d.emitNetwork(ref, NetEventStopped)
}

// netStart is one network start in progress: each step that made
// something pushes its undo, and a failed start runs them in reverse.
type netStart struct {
	d    *Driver
	def  *xmlconf.Network
	name string
	undo []func() error
}

type netStep struct {
	name string
	fn   func(s *netStart) error
}

// plumbNetwork makes the host side of a network, as libvirt's
// networkStartNetwork does: for a network with a bridge of its own the
// subnet check, the bridge with its addresses, the firewall table, the
// forwarding sysctls and dnsmasq; for a network on a host bridge only the
// check that the bridge is there. The status file is written first, so
// that a daemon that dies half-way finds and removes what it made.
func (d *Driver) plumbNetwork(live *xmlconf.Network) (err error) {
	s := &netStart{d: d, def: live, name: live.Def.Name}
	defer func() {
		if err != nil {
			s.rollback()
		}
	}()
	steps := []netStep{{"status file", (*netStart).writeStatus}}
	if hasOwnBridge(live) {
		steps = append(steps, netStep{"subnet check", (*netStart).checkSubnets},
			netStep{"bridge", (*netStart).makeBridge}, netStep{"firewall", (*netStart).applyFirewall},
			netStep{"bridge up", (*netStart).bridgeUp}, netStep{"forwarding", (*netStart).forwarding},
			netStep{"dnsmasq", (*netStart).startDnsmasq})
	} else {
		steps = append(steps, netStep{"host bridge check", (*netStart).checkHostBridge})
	}
	for _, st := range steps {
		t0 := time.Now()
		if err := st.fn(s); err != nil {
			d.log.Debug("network start step failed", "network", s.name, "step", st.name, "err", err)
			return err
		}
		d.log.Debug("network start step", "network", s.name, "step", st.name, "took", time.Since(t0))
	}
	return nil
}

func (s *netStart) rollback() {
	for i := len(s.undo) - 1; i >= 0; i-- {
		if err := s.undo[i](); err != nil {
			s.d.log.Error("undo part of a failed network start", "network", s.name, "err", err)
		}
	}
}

func (s *netStart) failf(format string, args ...any) error {
	return errorf(KindOperationFailed, "start network %s: "+format, append([]any{s.name}, args...)...)
}

func (s *netStart) writeStatus() error {
	nets := &s.d.nets
	if err := nets.ensureStateDir(); err != nil {
		return s.failf("%w", err)
	}
	if err := nets.saveStatus(s.def); err != nil {
		return s.failf("%w", err)
	}
	s.undo = append(s.undo, func() error {
		err := nets.removeStatus(s.name)
		nets.pruneStateDir()
		return err
	})
	return nil
}

func (s *netStart) checkSubnets() error {
	bridge := bridgeOf(s.def)
	for _, p := range xmlconf.Subnets(s.def) {
		if err := nat.CheckSubnet(p, bridge); err != nil {
			var overlap *nat.OverlapError
			if errors.As(err, &overlap) {
				return errorf(KindInternal, "start network %s: %w", s.name, err)
			}
			return s.failf("check subnet %s: %w", p, err)
		}
	}
	return nil
}

func (s *netStart) makeBridge() error {
	br := bridgeOf(s.def)
	if netns.LinkExists(br) {
		return errorf(KindSystem, "start network %s: unable to create bridge %s: a host link of that name already exists", s.name, br)
	}
	mtu := 0
	if s.def.Def.MTU != nil {
		mtu = int(s.def.Def.MTU.Size)
	}
	if _, err := netns.EnsureBridge(br, mtu, bridgeAddrs(s.def), false); err != nil {
		return s.failf("bridge %s: %w", br, err)
	}
	s.undo = append(s.undo, func() error { return netns.DeleteBridge(br) })
	if err := setBridgeOptions(br, s.def); err != nil {
		return s.failf("bridge %s: %w", br, err)
	}
	return nil
}

func (s *netStart) applyFirewall() error {
	nn, err := natNetwork(s.def)
	if err != nil {
		return err
	}
	if err := nat.Apply(nn); err != nil {
		return s.failf("firewall table %s: %w", nat.Table(s.name), err)
	}
	s.undo = append(s.undo, func() error { return nat.Remove(s.name) })
	return nil
}

func (s *netStart) bridgeUp() error {
	if err := setLinkUp(bridgeOf(s.def)); err != nil {
		return s.failf("bridge %s: %w", bridgeOf(s.def), err)
	}
	return nil
}

func (s *netStart) forwarding() error {
	nn, err := natNetwork(s.def)
	if err != nil {
		return err
	}
	keys := nat.ForwardSysctls(nn)
	if len(keys) == 0 {
		return nil
	}
	sysctls := s.d.nets.sysctls
	if err := sysctls.Acquire(s.name, keys...); err != nil {
		return s.failf("enable forwarding: %w", err)
	}
	s.undo = append(s.undo, func() error { return sysctls.Release(s.name) })
	return nil
}

func (s *netStart) startDnsmasq() error {
	cfg, needed, err := dnsmasqConfig(s.def)
	if err != nil || !needed {
		return err
	}
	dir := s.d.nets.dnsmasqDir(s.name)
	opened, err := s.d.nets.prepareDnsmasqDir(dir)
	if err != nil {
		return s.failf("dnsmasq: %w", err)
	}
	if opened {
		s.d.log.Info("made the state directory searchable by others (not readable): dnsmasq reads its hosts files as nobody",
			"dir", filepath.Dir(s.d.nets.stateDir))
	}
	s.undo = append(s.undo, func() error { return s.d.removeDnsmasqDir(s.name) })
	if p := unsearchable(dir); p != "" {
		// Only static hosts and DNS names live in files dnsmasq reads as
		// nobody: without them, the network works all the same.
		if len(cfg.Hosts)+len(cfg.DNSHosts) > 0 {
			return s.failf("dnsmasq runs as nobody and cannot read its hosts files in %s: "+
				"%s is not searchable by others (chmod o+x, or use a state directory below searchable directories)", dir, p)
		}
		s.d.log.Warn("dnsmasq runs as nobody and cannot reach its directory; static hosts would be ignored",
			"network", s.name, "dir", dir, "unsearchable", p)
	}
	if _, err := dnsmasq.Start(cfg, dir); err != nil {
		return s.failf("%w", err)
	}
	s.undo = append(s.undo, func() error { return dnsmasq.Stop(dir) })
	return nil
}

func (s *netStart) checkHostBridge() error {
	if br := bridgeOf(s.def); !netns.LinkExists(br) {
		return s.failf("host bridge %s does not exist", br)
	}
	return nil
}

// unplumbNetwork takes down what plumbNetwork made, in reverse order, and
// puts back the forwarding sysctls. Every step runs even when one fails.
func (d *Driver) unplumbNetwork(live *xmlconf.Network) {
	name := live.Def.Name
	var steps []netUndo
	if hasOwnBridge(live) {
		br := bridgeOf(live)
		dir := d.nets.dnsmasqDir(name)
		steps = []netUndo{
			{"dnsmasq", func() error { return dnsmasq.Stop(dir) }},
			{"forwarding", func() error { return d.nets.sysctls.Release(name) }},
			{"firewall", func() error { return nat.Remove(name) }},
			{"bridge", func() error { return netns.DeleteBridge(br) }},
		}
	}
	steps = append(steps, netUndo{"status file", func() error { return d.nets.removeStatus(name) }},
		netUndo{"dnsmasq directory", func() error { return d.removeDnsmasqDir(name) }})
	for _, st := range steps {
		t0 := time.Now()
		if err := st.fn(); err != nil {
			d.log.Error("network stop step failed", "network", name, "step", st.name, "err", err)
			continue
		}
		d.log.Debug("network stop step", "network", name, "step", st.name, "took", time.Since(t0))
	}
}

type netUndo struct {
	name string
	fn   func() error
}
