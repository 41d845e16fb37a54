package rpc

// stream is a data stream opened by a call (the console). Packets of type
// STREAM with the call's serial belong to it.
type stream struct {
	// deliver handles one packet the client sent on the stream.
	deliver func(m *message)
	// abort ends the stream when the connection goes away.
	abort func()
}

// streamMessage routes a client's STREAM packet to its stream. Packets for
// streams that do not exist (any more) are dropped, as libvirtd drops them.
func (c *conn) streamMessage(m *message) {
	closeFDs(m.fds)
	c.mu.Lock()
	st := c.streams[m.hdr.Serial]
	c.mu.Unlock()
	if st != nil {
		st.deliver(m)
	}
}

// closeStreams aborts every stream of a closing connection.
func (c *conn) closeStreams() {
	c.mu.Lock()
	streams := c.streams
	c.streams = map[uint32]*stream{}
	c.mu.Unlock()
	for _, st := range streams {
		st.abort()
	}
}
