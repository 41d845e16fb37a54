package netns

import (
	"errors"
	"fmt"
	"slices"
)

// Setup creates ifaces in the container whose network namespace is ns:
// it makes each link, puts its guest side in the container under its
// guest name with its MAC and MTU, adds addresses, brings it up, adds
// routes, and brings up the container's "lo".
//
// Every bridge, parent and host device is checked before anything is made,
// so a missing one fails with an error wrapping [ErrNotExist] and leaves
// nothing. On any other error Setup removes what it made and returns host
// devices to the host.
//
// Call it while the container's init still waits to be let go, so that
// the container never sees an interface half configured.
func Setup(ns NS, ifaces []Iface) (*Plumbing, error) {
	p := &Plumbing{}
	if _, err := p.add(ns, ifaces, true); err != nil {
		return nil, err
	}
	return p, nil
}

// Attach adds one interface to a running container, as [Setup] does, and
// records it in p. It returns the record, which tells the names chosen
// for an Iface that left them empty.
func (p *Plumbing) Attach(ns NS, iface Iface) (Link, error) {
	made, err := p.add(ns, []Iface{iface}, false)
	if err != nil {
		return Link{}, err
	}
	return made[0], nil
}

// Detach removes the interface called guestName in the container, as
// [Plumbing.Teardown] would, and drops it from p.
func (p *Plumbing) Detach(ns NS, guestName string) error {
	i := slices.IndexFunc(p.Links, func(l Link) bool { return l.GuestName == guestName })
	if i < 0 {
		return fmt.Errorf("interface %q %w", guestName, ErrNotExist)
	}
	s, err := openForRemoval(ns)
	if err != nil {
		return fmt.Errorf("detach %s: %w", guestName, err)
	}
	defer s.close()
	if err := s.remove(p.Links[i]); err != nil {
		return fmt.Errorf("detach %s: %w", guestName, err)
	}
	p.Links = slices.Delete(p.Links, i, i+1)
	return nil
}

// Teardown removes every link in p, last made first: it deletes the host
// ends of veths (which deletes their pairs) and macvlans, and moves host
// devices back to the host under their original names and MTUs.
//
// The container's namespace may be gone already, or ns may name the
// host's own namespace because the container's PID was reused: the kernel
// has then deleted the veths and macvlans and returned physical host
// devices to the host (under their guest names, or devN), and Teardown
// renames those back; virtual host devices died with the namespace.
//
// Links removed or found gone are dropped from p; Teardown is idempotent
// and a nil p has nothing to remove.
func (p *Plumbing) Teardown(ns NS) error {
	if p == nil || len(p.Links) == 0 {
		return nil
	}
	s, err := openForRemoval(ns)
	if err != nil {
		return fmt.Errorf("teardown: %w", err)
	}
	defer s.close()
	var errs []error
	var kept []Link
	for _, l := range slices.Backward(p.Links) {
		if err := s.remove(l); err != nil {
			errs = append(errs, err)
			kept = append(kept, l)
		}
	}
	slices.Reverse(kept)
	p.Links = kept
	return errors.Join(errs...)
}

// openForRemoval opens ns, or only the host side when ns is gone.
func openForRemoval(ns NS) (*session, error) {
	s, err := openSession(ns)
	if errors.Is(err, errGone) {
		return openHost()
	}
	return s, err
}

// add makes ifaces in ns, and brings up lo if asked to. It records them in
// p only when all succeeded; otherwise it removes what it made.
func (p *Plumbing) add(ns NS, ifaces []Iface, lo bool) ([]Link, error) {
	s, err := openSession(ns)
	if err != nil {
		return nil, err
	}
	defer s.close()
	plans, err := s.plan(ifaces)
	if err != nil {
		return nil, err
	}
	var made []Link
	for i := range plans {
		l, err := s.make(&plans[i])
		if l.Kind != "" {
			made = append(made, l)
		}
		if err == nil {
			continue
		}
		return nil, s.rollback(made, err)
	}
	if lo {
		if err := s.loUp(); err != nil {
			return nil, s.rollback(made, err)
		}
	}
	p.Links = append(p.Links, made...)
	return made, nil
}

// rollback removes made, last first, and returns cause with any failure
// to remove.
func (s *session) rollback(made []Link, cause error) error {
	errs := []error{cause}
	for _, l := range slices.Backward(made) {
		if err := s.remove(l); err != nil {
			errs = append(errs, fmt.Errorf("undo: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (s *session) loUp() error {
	lo, err := s.guest.LinkByName("lo")
	if err == nil {
		err = s.guest.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	return nil
}
