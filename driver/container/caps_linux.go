package container

import (
	"fmt"

	"github.com/moby/sys/capability"
	"github.com/vishvananda/netlink"
)

// dropCapabilities reduces the calling thread's capability sets and
// bounding set to keep (names as libvirt spells them, e.g. "sys_admin").
// Capability sets are per thread: this must run on the locked thread that
// execs init.
func dropCapabilities(keep []string) error {
	known := map[string]capability.Cap{}
	for _, c := range capability.ListKnown() {
		known[c.String()] = c
	}
	caps, err := capability.NewPid2(0)
	if err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	if err := caps.Load(); err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	had := map[capability.Cap][2]bool{}
	for _, c := range known {
		had[c] = [2]bool{caps.Get(capability.PERMITTED, c), caps.Get(capability.BOUNDING, c)}
	}
	caps.Clear(capability.CAPS | capability.BOUNDS | capability.AMBS)
	for _, name := range keep {
		c, ok := known[name]
		if !ok {
			continue // a capability this kernel does not have
		}
		// Capabilities can only be given up, never gained: keep what the
		// helper itself holds.
		if had[c][0] {
			caps.Set(capability.CAPS, c)
		}
		if had[c][1] {
			caps.Set(capability.BOUNDS, c)
		}
	}
	if err := caps.Apply(capability.CAPS | capability.BOUNDS | capability.AMBS); err != nil {
		return fmt.Errorf("drop capabilities: %w", err)
	}
	return nil
}

// loopbackUp brings up lo in the container's own network namespace.
func loopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find loopback: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("bring loopback up: %w", err)
	}
	return nil
}
