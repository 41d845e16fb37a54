package netns

import "errors"

// Sentinel errors, wrapped by errors that name the link concerned: test
// for them with [errors.Is].
var (
	// ErrNotExist is wrapped when a bridge, parent device or host device
	// named by an [Iface] does not exist; the message reads like
	// `bridge "br0" does not exist`.
	ErrNotExist = errors.New("does not exist")
	// ErrExist is wrapped when a link name to be created is taken.
	ErrExist = errors.New("already exists")
	// ErrInvalid is wrapped when an [Iface] or [Route] is malformed.
	ErrInvalid = errors.New("invalid")
)
