package xmlconf

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"strings"
)

// parseUUID reads a UUID as libvirt's virUUIDParse does: 32 hex digits,
// '-' and ' ' allowed between digit pairs, white space around. It returns
// the canonical lower-case form.
func parseUUID(s string) (string, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	var raw [16]byte
	i := 0
	for n := 0; n < 16; {
		if i >= len(s) {
			return "", false
		}
		if s[i] == '-' || s[i] == ' ' {
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		hi, ok1 := hexValue(s[i])
		lo, ok2 := hexValue(s[i+1])
		if !ok1 || !ok2 {
			return "", false
		}
		raw[n] = hi<<4 | lo
		n++
		i += 2
	}
	if strings.TrimLeft(s[i:], " \t\n\v\f\r") != "" {
		return "", false
	}
	return formatUUID(raw), true
}

func hexValue(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func formatUUID(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// NewUUID returns a random (version 4) UUID in canonical form.
func NewUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(u)
}

// newMAC returns a random MAC address with libvirt's default prefix
// 52:54:00.
func newMAC() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", b[0], b[1], b[2])
}

// canonicalIP returns s in the form libvirt prints addresses in, or s
// itself when it is not an address.
func canonicalIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return a.String()
}
