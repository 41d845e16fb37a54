package dnsmasq

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Lease is one DHCP lease from dnsmasq's lease file.
type Lease struct {
	// Expiry is when the lease ends; the zero time means never.
	Expiry time.Time
	// MAC is the client's hardware address. For DHCPv6 it comes from the
	// client's DUID when that is link-layer based (types 1 and 3), and is
	// nil otherwise.
	MAC net.HardwareAddr
	// IP is the leased address.
	IP netip.Addr
	// Prefix is the length of the prefix of the subnet the address is in,
	// from the subnets given to [Leases]; 0 if none holds it.
	Prefix int
	// Hostname is the client's host name: the static host's name if
	// one matched, else the name the client sent; "" if none.
	Hostname string
	// ClientID is the DHCPv4 client identifier or the DHCPv6 client DUID,
	// as colon-separated hex, "" if none.
	ClientID string
	// IAID is the DHCPv6 identity association; 0 for DHCPv4.
	IAID uint32
	// Temporary marks a DHCPv6 temporary address (IA_TA).
	Temporary bool
}

// Expired reports whether the lease has ended at now.
func (l Lease) Expired(now time.Time) bool {
	return !l.Expiry.IsZero() && !now.Before(l.Expiry)
}

// LineError reports a lease file line that could not be parsed.
type LineError struct {
	// Line is the line number, from 1.
	Line int
	// Text is the line.
	Text string
	// Err says what is wrong.
	Err error
}

// Error implements error.
func (e *LineError) Error() string {
	return fmt.Sprintf("lease file line %d %q: %v", e.Line, e.Text, e.Err)
}

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// Leases reads dnsmasq's lease file at path. A missing file holds no
// leases. subnets give each lease its Prefix (see [Config.AllSubnets]).
// Like [ParseLeases], it returns the leases it could read even when some
// lines were bad (dnsmasq rewrites the file in place, so a reader can see
// a partial last line); the error then lists the bad lines.
func Leases(path string, subnets ...netip.Prefix) ([]Lease, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read leases: %w", err)
	}
	leases, err := ParseLeases(bytes.NewReader(b), subnets...)
	if err != nil {
		return leases, fmt.Errorf("read leases %s: %w", path, err)
	}
	return leases, nil
}

// ParseLeases parses a dnsmasq lease file. IPv4 lines read
// "EXPIRY MAC IP HOSTNAME CLIENTID"; after the "duid SERVER-DUID" line,
// IPv6 lines read "EXPIRY [T]IAID IP HOSTNAME CLIENT-DUID". "*" stands for
// an absent hostname or client ID. It returns every lease it could parse,
// and a [*LineError] (joined, if several) for the lines it could not.
func ParseLeases(r io.Reader, subnets ...netip.Prefix) ([]Lease, error) {
	var (
		leases []Lease
		errs   []error
		v6     bool
		n      int
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		n++
		text := strings.TrimSpace(sc.Text())
		fields := strings.Fields(text)
		switch {
		case len(fields) == 0:
			continue
		case fields[0] == "duid":
			v6 = true
			continue
		}
		l, err := parseLease(fields, v6)
		if err != nil {
			errs = append(errs, &LineError{Line: n, Text: text, Err: err})
			continue
		}
		l.Prefix = prefixOf(l.IP, subnets)
		leases = append(leases, l)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return leases, errors.Join(errs...)
}

func parseLease(f []string, v6 bool) (Lease, error) {
	if len(f) < 4 || len(f) > 5 {
		return Lease{}, fmt.Errorf("%d fields, want 4 or 5", len(f))
	}
	var l Lease
	exp, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || exp < 0 {
		return Lease{}, fmt.Errorf("bad expiry %q", f[0])
	}
	if exp > 0 {
		l.Expiry = time.Unix(exp, 0)
	}
	if l.IP, err = netip.ParseAddr(f[2]); err != nil || l.IP.Is6() != v6 {
		return Lease{}, fmt.Errorf("bad address %q", f[2])
	}
	if f[3] != "*" {
		l.Hostname = f[3]
	}
	if len(f) == 5 && f[4] != "*" {
		l.ClientID = strings.ToLower(f[4])
	}
	if v6 {
		err = l.setIAID(f[1])
	} else {
		l.MAC, err = parseHWAddr(f[1])
	}
	return l, err
}

func (l *Lease) setIAID(s string) error {
	s, l.Temporary = strings.CutPrefix(s, "T")
	iaid, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return fmt.Errorf("bad IAID %q", s)
	}
	l.IAID = uint32(iaid)
	l.MAC = MACFromDUID(l.ClientID)
	return nil
}

// parseHWAddr reads a lease's hardware address. dnsmasq writes
// "TYPE-xx:xx…" for anything but Ethernet; that is kept as the bare
// address.
func parseHWAddr(s string) (net.HardwareAddr, error) {
	if _, rest, ok := strings.Cut(s, "-"); ok {
		s = rest
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("bad hardware address %q", s)
	}
	return net.HardwareAddr(b), nil
}

// MACFromDUID returns the Ethernet address in a DHCPv6 DUID written as
// colon-separated hex, for link-layer DUIDs (DUID-LLT, type 1, and DUID-LL,
// type 3, of hardware type 1), and nil for any other DUID.
func MACFromDUID(duid string) net.HardwareAddr {
	b, err := hex.DecodeString(strings.ReplaceAll(duid, ":", ""))
	if err != nil || len(b) < 4 || b[2] != 0 || b[3] != 1 {
		return nil
	}
	var mac []byte
	switch {
	case b[0] == 0 && b[1] == 1 && len(b) == 14:
		mac = b[8:]
	case b[0] == 0 && b[1] == 3 && len(b) == 10:
		mac = b[4:]
	default:
		return nil
	}
	return net.HardwareAddr(mac)
}

// prefixOf returns the prefix length of the first subnet holding a.
func prefixOf(a netip.Addr, subnets []netip.Prefix) int {
	for _, p := range subnets {
		if p.Contains(a) {
			return p.Bits()
		}
	}
	return 0
}

// ForMAC returns the leases of the client with hardware address mac that
// have not expired at now, in file order: what domifaddr reports for one
// interface.
func ForMAC(leases []Lease, mac net.HardwareAddr, now time.Time) []Lease {
	var out []Lease
	for _, l := range leases {
		if bytes.Equal(l.MAC, mac) && !l.Expired(now) {
			out = append(out, l)
		}
	}
	return out
}

// AllSubnets returns the subnets of c's ranges followed by c.Subnets,
// without repeats: what [Leases] needs to fill in Prefix.
func (c Config) AllSubnets() []netip.Prefix {
	var out []netip.Prefix
	seen := map[netip.Prefix]bool{}
	add := func(p netip.Prefix) {
		if p = p.Masked(); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, r := range c.Ranges {
		add(r.Subnet())
	}
	for _, p := range c.Subnets {
		add(p)
	}
	return out
}
