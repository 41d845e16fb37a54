package rpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Message types (virNetMessageType).
const (
	typeCall         uint32 = 0
	typeReply        uint32 = 1
	typeMessage      uint32 = 2
	typeStream       uint32 = 3
	typeCallWithFDs  uint32 = 4
	typeReplyWithFDs uint32 = 5
	typeStreamHole   uint32 = 6
)

// Message statuses (virNetMessageStatus).
const (
	statusOK       uint32 = 0
	statusError    uint32 = 1
	statusContinue uint32 = 2
)

// Protocol limits (virnetprotocol.x).
const (
	lenSize       = 4        // the length word
	headerSize    = 24       // virNetMessageHeader
	maxMessage    = 33554432 // VIR_NET_MESSAGE_MAX: header + payload
	maxFDs        = 32       // VIR_NET_MESSAGE_NUM_FDS_MAX
	streamChunk   = 262120   // VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX, the stream packet size
	eventSerial   = 1        // libvirtd sends event messages with serial 1
	minPacketSize = lenSize + headerSize
)

// header is virNetMessageHeader.
type header struct {
	Program   uint32
	Version   uint32
	Procedure int32
	Type      uint32
	Serial    uint32
	Status    uint32
}

// message is one decoded packet. fds holds the descriptors a
// CALL_WITH_FDS carried, or those a REPLY_WITH_FDS must carry.
type message struct {
	hdr  header
	body []byte
	fds  []int
	// after, set by a handler, runs once the call's reply is sent (a
	// stream starts sending only after the reply that opened it).
	after func()
}

var errFrame = errors.New("malformed packet")

// readMessage reads one packet. takeFDs is called for *_WITH_FDS packets
// to collect the descriptors that follow the packet on the socket.
func readMessage(r io.Reader, takeFDs func(n int) ([]int, error)) (*message, error) {
	var lb [lenSize]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if n < minPacketSize || n-lenSize > maxMessage {
		return nil, fmt.Errorf("%w: length %d outside [%d, %d]", errFrame, n, minPacketSize, maxMessage+lenSize)
	}
	buf, err := readN(r, int(n-lenSize))
	if err != nil {
		return nil, fmt.Errorf("%w: truncated: %v", errFrame, err)
	}
	m := &message{hdr: decodeHeader(buf), body: buf[headerSize:]}
	if m.hdr.Type == typeCallWithFDs || m.hdr.Type == typeReplyWithFDs {
		if len(m.body) < 4 {
			return nil, fmt.Errorf("%w: missing descriptor count", errFrame)
		}
		nfds := binary.BigEndian.Uint32(m.body)
		m.body = m.body[4:]
		if nfds > maxFDs {
			return nil, fmt.Errorf("%w: %d descriptors exceed the limit of %d", errFrame, nfds, maxFDs)
		}
		fds, err := takeFDs(int(nfds))
		if err != nil {
			return nil, err
		}
		m.fds = fds
	}
	return m, nil
}

// readN reads exactly n bytes, growing its buffer as data arrives (as
// libvirt does from VIR_NET_MESSAGE_INITIAL) so that a peer announcing a
// large packet and sending nothing costs no memory.
func readN(r io.Reader, n int) ([]byte, error) {
	const initial = 65536
	buf := make([]byte, 0, min(n, initial))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, min(n, 4*cap(buf))-cap(buf))...)[:len(buf)]
		}
		k, err := r.Read(buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+k]
		if err != nil && len(buf) < n {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return buf, nil
}

func decodeHeader(b []byte) header {
	be := binary.BigEndian
	return header{
		Program:   be.Uint32(b[0:]),
		Version:   be.Uint32(b[4:]),
		Procedure: int32(be.Uint32(b[8:])),
		Type:      be.Uint32(b[12:]),
		Serial:    be.Uint32(b[16:]),
		Status:    be.Uint32(b[20:]),
	}
}

// encodeMessage returns the packet for h and body, with the descriptor
// count when nfds > 0 (the caller sets a *_WITH_FDS type).
func encodeMessage(h header, body []byte, nfds int) []byte {
	size := minPacketSize + len(body)
	if nfds > 0 {
		size += 4
	}
	b := make([]byte, 0, size)
	be := binary.BigEndian
	b = be.AppendUint32(b, uint32(size))
	b = be.AppendUint32(b, h.Program)
	b = be.AppendUint32(b, h.Version)
	b = be.AppendUint32(b, uint32(h.Procedure))
	b = be.AppendUint32(b, h.Type)
	b = be.AppendUint32(b, h.Serial)
	b = be.AppendUint32(b, h.Status)
	if nfds > 0 {
		b = be.AppendUint32(b, uint32(nfds))
	}
	return append(b, body...)
}
