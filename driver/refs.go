package driver

import (
	"encoding/hex"
	"fmt"
)

// UUID is a domain or network UUID in binary form.
type UUID [16]byte

// String formats u as libvirt does: 8-4-4-4-12 lower-case hex digits.
func (u UUID) String() string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ParseUUID parses a UUID in libvirt's accepted forms: 32 hex digits,
// optionally separated by dashes (or spaces) between digit pairs.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	digits := make([]byte, 0, 32)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			if len(digits)%2 != 0 {
				return u, fmt.Errorf("malformed uuid element")
			}
		case isHex(c):
			digits = append(digits, c)
		default:
			return u, fmt.Errorf("malformed uuid element")
		}
	}
	if len(digits) != 32 {
		return u, fmt.Errorf("malformed uuid element")
	}
	_, err := hex.Decode(u[:], digits)
	return u, err
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// DomainRef identifies a domain on the wire: name, UUID and ID (-1 while
// the domain is not running).
type DomainRef struct {
	Name string
	UUID UUID
	ID   int
}

// NetworkRef identifies a network.
type NetworkRef struct {
	Name string
	UUID UUID
}
