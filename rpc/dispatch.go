package rpc

import (
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/rpc/remote"
	"github.com/nsvirt/nsvirt/rpc/xdr"
)

// handlerFunc serves one call. It returns the encoded reply payload and
// any descriptors the reply carries (REPLY_WITH_FDS).
type handlerFunc func(c *conn, m *message) (body []byte, fds []int, err error)

// handler is one entry of the dispatch table.
type handler struct {
	fn handlerFunc
	// noOpen lets the procedure run before CONNECT_OPEN (auth, feature
	// probes, the open itself).
	noOpen bool
	// modifies marks procedures that change state; read-only connections
	// are refused them.
	modifies bool
	// inline marks cheap procedures that never wait (queries of in-memory
	// state); the reader runs them itself instead of starting a goroutine.
	inline bool
	// takesFDs marks procedures that accept descriptors (CALL_WITH_FDS).
	takesFDs bool
	// args and ret are the payload types, for codec tests.
	args, ret any
}

type procKey struct {
	prog uint32
	proc remote.Procedure
}

// table is the dispatch table: program and procedure to handler. Anything
// missing from it is answered "not supported" when libvirt knows the
// procedure and "unknown procedure" when it does not.
type table map[procKey]handler

// call adapts a typed handler: it decodes the arguments into an A, runs fn
// and encodes the *R it returns. Use struct{} for "no arguments" or "no
// return value".
func call[A, R any](fn func(c *conn, a *A) (*R, error)) handler {
	return handler{
		fn: func(c *conn, m *message) ([]byte, []int, error) {
			var a A
			if err := xdr.Unmarshal(m.body, &a); err != nil {
				return nil, nil, rpcErrorf(libvirt.ErrRPC, "Unable to decode message payload: %v", err)
			}
			r, err := fn(c, &a)
			if err != nil {
				return nil, nil, err
			}
			body, err := xdr.Marshal(r)
			return body, nil, err
		},
		args: new(A),
		ret:  new(R),
	}
}

// callFDs is call for procedures that receive (CALL_WITH_FDS) or return
// (REPLY_WITH_FDS) file descriptors.
func callFDs[A, R any](fn func(c *conn, a *A, in []int) (*R, []int, error)) handler {
	h := call(func(*conn, *A) (*R, error) { return nil, nil })
	h.fn = func(c *conn, m *message) ([]byte, []int, error) {
		var a A
		if err := xdr.Unmarshal(m.body, &a); err != nil {
			return nil, nil, rpcErrorf(libvirt.ErrRPC, "Unable to decode message payload: %v", err)
		}
		r, fds, err := fn(c, &a, m.fds)
		if err != nil {
			closeFDs(fds)
			return nil, nil, err
		}
		body, err := xdr.Marshal(r)
		return body, fds, err
	}
	h.takesFDs = true
	return h
}

func (h handler) open() handler   { h.noOpen = true; return h }
func (h handler) writes() handler { h.modifies = true; return h }
func (h handler) fast() handler   { h.inline = true; return h }

// dispatch runs one call and sends its reply.
func (c *conn) dispatch(m *message) {
	hdr := m.hdr
	body, fds, err := c.run(m)
	reply := header{Program: hdr.Program, Version: hdr.Version, Procedure: hdr.Procedure,
		Type: typeReply, Serial: hdr.Serial, Status: statusOK}
	if err != nil {
		closeFDs(fds)
		c.log.Debug("call failed", "proc", hdr.Procedure, "err", err)
		reply.Status = statusError
		body, _ = xdr.Marshal(toRemoteError(err))
		fds = nil
	}
	if len(fds) > 0 {
		reply.Type = typeReplyWithFDs
	}
	if c.send(encodeMessage(reply, body, len(fds)), fds) && err == nil && m.after != nil {
		m.after()
	}
}

// run checks and runs a call. Descriptors that came with the call belong
// to the handler if it takes descriptors, and are closed here otherwise.
func (c *conn) run(m *message) (_ []byte, _ []int, err error) {
	hdr := m.hdr
	handed := false
	defer func() {
		if !handed {
			closeFDs(m.fds)
		}
	}()
	if hdr.Version != remote.ProtocolVersion || !knownProgram(hdr.Program) {
		return nil, nil, rpcErrorf(libvirt.ErrRPC, "Cannot find program %d version %d", hdr.Program, hdr.Version)
	}
	if hdr.Status != statusOK {
		return nil, nil, rpcErrorf(libvirt.ErrRPC, "Unexpected message status %d", hdr.Status)
	}
	proc := remote.Procedure(hdr.Procedure)
	h, ok := c.srv.handlers[procKey{hdr.Program, proc}]
	if !ok {
		if _, known := remote.Name(hdr.Program, proc); known {
			return nil, nil, unsupported(remote.APIName(hdr.Program, proc))
		}
		return nil, nil, rpcErrorf(libvirt.ErrRPC, "unknown procedure: %d", hdr.Procedure)
	}
	c.mu.Lock()
	opened, ro := c.opened, c.readOnly
	c.mu.Unlock()
	if !h.noOpen && !opened {
		return nil, nil, rpcErrorf(libvirt.ErrInternalError, "connection not open")
	}
	if h.modifies && ro {
		return nil, nil, readOnlyDenied(remote.APIName(hdr.Program, proc))
	}
	handed = h.takesFDs
	return h.fn(c, m)
}

func knownProgram(p uint32) bool {
	switch p {
	case remote.RemoteProgram, remote.LXCProgram, remote.QEMUProgram:
		return true
	}
	return false
}

// String describes a key for logs and test names.
func (k procKey) String() string {
	n, _ := remote.Name(k.prog, k.proc)
	return fmt.Sprintf("%s(%d)", n, k.proc)
}
