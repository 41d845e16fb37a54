package rpc

import (
	"os"

	libvirt "github.com/digitalocean/go-libvirt"
	"golang.org/x/sys/unix"

	"github.com/nsvirt/nsvirt/rpc/remote"
	"github.com/nsvirt/nsvirt/rpc/xdr"
)

// lxcOpenNamespaceArgs is lxc_domain_open_namespace_args (LXC program,
// procedure 1), which go-libvirt does not generate.
type lxcOpenNamespaceArgs struct {
	Dom   libvirt.Domain
	Flags uint32
}

// interactiveHandlers serve the console stream, the LXC program's
// namespace descriptors and process signals.
func (s *Server) interactiveHandlers(t table) {
	r := remote.RemoteProgram
	t[procKey{r, remote.ProcDomainOpenConsole}] = handler{
		fn: func(c *conn, m *message) ([]byte, []int, error) {
			var a libvirt.DomainOpenConsoleArgs
			if err := xdr.Unmarshal(m.body, &a); err != nil {
				return nil, nil, rpcErrorf(libvirt.ErrRPC, "Unable to decode message payload: %v", err)
			}
			dev := ""
			if d := optString(a.DevName); d != nil {
				dev = *d
			}
			con, err := s.drv.OpenConsole(domRef(a.Dom), dev, a.Flags)
			if err != nil {
				return nil, nil, err
			}
			m.after = c.openConsoleStream(m.hdr, con)
			return nil, nil, nil
		},
		args: new(libvirt.DomainOpenConsoleArgs), ret: new(struct{}),
	}.writes()
	t[procKey{remote.LXCProgram, remote.LXCProcDomainOpenNamespace}] = callFDs(func(_ *conn, a *lxcOpenNamespaceArgs, _ []int) (*struct{}, []int, error) {
		files, err := s.drv.Namespaces(domRef(a.Dom), a.Flags)
		if err != nil {
			return nil, nil, err
		}
		fds, err := rawFDs(files)
		return &struct{}{}, fds, err
	}).writes()
	t[procKey{r, remote.ProcDomainSendProcessSignal}] = call(func(_ *conn, a *libvirt.DomainSendProcessSignalArgs) (*struct{}, error) {
		return &struct{}{}, s.drv.SendProcessSignal(domRef(a.Dom), a.PidValue, a.Signum, a.Flags)
	}).writes()
}

// rawFDs turns files into descriptors the reply owns (and closes once
// sent), closing the files.
func rawFDs(files []*os.File) ([]int, error) {
	var fds []int
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, f := range files {
		fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			closeFDs(fds)
			return nil, rpcErrorf(libvirt.ErrSystemError, "duplicate descriptor: %v", err)
		}
		fds = append(fds, fd)
	}
	return fds, nil
}
