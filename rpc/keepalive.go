package rpc

import (
	"time"

	"github.com/nsvirt/nsvirt/rpc/remote"
)

// keepaliveMessage answers a client's PING with a PONG. A PONG needs no
// answer: receiving it already refreshed lastRx.
func (c *conn) keepaliveMessage(m *message) {
	closeFDs(m.fds)
	if remote.Procedure(m.hdr.Procedure) == remote.KeepaliveProcPing && m.hdr.Type == typeMessage {
		c.send(keepalivePacket(remote.KeepaliveProcPong), nil)
	}
}

func keepalivePacket(p remote.Procedure) []byte {
	return encodeMessage(header{
		Program: remote.KeepaliveProgram, Version: remote.ProtocolVersion,
		Procedure: int32(p), Type: typeMessage, Status: statusOK,
	}, nil, 0)
}

// startKeepalive begins pinging the client when it has been silent for
// the keepalive interval, and drops it after KeepaliveCount unanswered
// pings, as libvirtd does once a client probed PROGRAM_KEEPALIVE.
func (c *conn) startKeepalive() {
	c.kaOnce.Do(func() { go c.keepaliveLoop() })
}

func (c *conn) keepaliveLoop() {
	interval, count := c.srv.opts.KeepaliveInterval, c.srv.opts.KeepaliveCount
	t := time.NewTicker(interval / 4)
	defer t.Stop()
	missed := 0
	lastSeen := c.lastRx.Load()
	nextPing := time.Unix(0, lastSeen).Add(interval)
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			if rx := c.lastRx.Load(); rx != lastSeen {
				lastSeen, missed = rx, 0
				nextPing = time.Unix(0, rx).Add(interval)
			}
			if now.Before(nextPing) {
				continue
			}
			if missed >= count {
				c.log.Info("client stopped answering keepalive; disconnecting", "missed", missed)
				c.close()
				return
			}
			missed++
			nextPing = now.Add(interval)
			c.sendEvent(keepalivePacket(remote.KeepaliveProcPing))
		}
	}
}
