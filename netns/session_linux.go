package netns

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// session holds what one operation needs open: netlink sockets in the
// host's and the container's namespaces, and both namespaces' fds.
type session struct {
	host    *netlink.Handle
	hostNS  vnetns.NsHandle
	guest   *netlink.Handle // nil when the container's namespace is gone
	guestNS vnetns.NsHandle
}

// errGone is returned by openSession when ns no longer exists, or names
// the host's own namespace (a reused PID's).
var errGone = errors.New("container network namespace is gone")

// openSession opens the host side and the container namespace ns. The
// caller must close it.
func openSession(ns NS) (*session, error) {
	if ns == "" {
		return nil, fmt.Errorf("%w: no network namespace given", ErrInvalid)
	}
	s, err := openHost()
	if err != nil {
		return nil, err
	}
	s.guestNS, err = vnetns.GetFromPath(string(ns))
	if err != nil {
		s.close()
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("open network namespace %s: %w: %w", ns, errGone, err)
		}
		return nil, fmt.Errorf("open network namespace %s: %w", ns, err)
	}
	if s.guestNS.Equal(s.hostNS) {
		s.close()
		return nil, fmt.Errorf("network namespace %s is the host's own: %w", ns, errGone)
	}
	s.guest, err = netlink.NewHandleAt(s.guestNS, unix.NETLINK_ROUTE)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("open netlink in network namespace %s: %w", ns, err)
	}
	return s, nil
}

// openHost opens the host side only.
func openHost() (*session, error) {
	s := &session{hostNS: -1, guestNS: -1}
	var err error
	s.host, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open netlink: %w", err)
	}
	// The calling thread's namespace: nsvirt never moves a Go thread to
	// another one, so it is the host's.
	s.hostNS, err = vnetns.Get()
	if err != nil {
		s.close()
		return nil, fmt.Errorf("open host network namespace: %w", err)
	}
	return s, nil
}

func (s *session) close() {
	if s.guest != nil {
		s.guest.Close()
	}
	if s.host != nil {
		s.host.Close()
	}
	if s.guestNS.IsOpen() {
		s.guestNS.Close()
	}
	if s.hostNS.IsOpen() {
		s.hostNS.Close()
	}
}

// dumpRetries bounds the retries of a dump the kernel interrupted.
const dumpRetries = 10

// retryDump runs a netlink dump until it is not interrupted (the kernel
// sets NLM_F_DUMP_INTR when the table changes during the dump, e.g. while
// an IPv6 address finishes duplicate address detection).
func retryDump[T any](dump func() ([]T, error)) ([]T, error) {
	for i := 0; ; i++ {
		r, err := dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) || i == dumpRetries {
			return r, err
		}
	}
}

// linkNames returns the names of every link h sees.
func linkNames(h *netlink.Handle) (map[string]bool, error) {
	links, err := retryDump(h.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	names := make(map[string]bool, len(links))
	for _, l := range links {
		names[l.Attrs().Name] = true
	}
	return names, nil
}

// notFound reports whether err says a link does not exist.
func notFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}

// lookup returns the link called name, nil with a nil error if there is
// none.
func lookup(h *netlink.Handle, name string) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	if notFound(err) {
		return nil, nil
	}
	return l, err
}
