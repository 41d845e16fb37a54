package xmlconf

import (
	"math"
	"math/bits"
	"strings"
)

// Memory limits libvirt applies to sizes.
const (
	// maxMemoryBytes is the bound of memory sizes on 64-bit hosts
	// (virMemoryMaxValue: LLONG_MAX).
	maxMemoryBytes = math.MaxInt64
	// UnlimitedKiB is VIR_DOMAIN_MEMORY_PARAM_UNLIMITED: a memtune limit of
	// this many KiB (or more) means "no limit" and is not written out.
	UnlimitedKiB = 1<<53 - 1
)

// ScaleInteger multiplies value by the factor a unit suffix names, with
// the rules of libvirt's virScaleInteger: an empty suffix means scale;
// "b", "byte" and "bytes" mean 1; "k", "M", "G", "T", "P" and "E" alone or
// followed by "iB" are powers of 1024, followed by "B" powers of 1000;
// letters are matched case-insensitively. It fails with ErrInvalidArg for
// an unknown suffix and ErrOverflow when the result exceeds limit.
func ScaleInteger(value uint64, suffix string, scale, limit uint64) (uint64, error) {
	factor, err := unitFactor(suffix, scale)
	if err != nil {
		return 0, err
	}
	if value != 0 && value > limit/factor {
		return 0, errf(ErrOverflow, "value too large: %d%s", value, suffix)
	}
	return value * factor, nil
}

// unitFactor returns the multiplier suffix stands for.
func unitFactor(suffix string, scale uint64) (uint64, error) {
	switch {
	case suffix == "":
		if scale == 0 {
			return 0, errf(ErrInvalidArg, "invalid scale %d", scale)
		}
		return scale, nil
	case strings.EqualFold(suffix, "b"), strings.EqualFold(suffix, "byte"), strings.EqualFold(suffix, "bytes"):
		return 1, nil
	}
	var base uint64
	switch rest := suffix[1:]; {
	case rest == "", strings.EqualFold(rest, "iB"):
		base = 1024
	case len(rest) == 1 && (rest[0] == 'b' || rest[0] == 'B'):
		base = 1000
	default:
		return 0, errf(ErrInvalidArg, "unknown suffix '%s'", suffix)
	}
	power := strings.IndexByte("kmgtpe", lowerASCII(suffix[0]))
	if power < 0 {
		return 0, errf(ErrInvalidArg, "unknown suffix '%s'", suffix)
	}
	factor := uint64(1)
	for i := 0; i <= power; i++ {
		factor *= base
	}
	return factor, nil
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// parseUint parses s as libvirt's virStrToLong_ullp does: optional
// leading white space, an optional '+', decimal digits and nothing after;
// no minus sign, no overflow.
func parseUint(s string) (uint64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	s = strings.TrimPrefix(s, "+")
	return parseDigits(s)
}

// parseUintWrap parses s as virStrToLong_ull does, which also accepts a
// minus sign and wraps the value around (strtoull).
func parseUintWrap(s string) (uint64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := strings.HasPrefix(s, "-")
	if neg || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	v, ok := parseDigits(s)
	if neg {
		v = -v
	}
	return v, ok
}

func parseDigits(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		hi, lo := bits.Mul64(v, 10)
		if hi != 0 || lo+uint64(c-'0') < lo {
			return 0, false
		}
		v = lo + uint64(c-'0')
	}
	return v, true
}

// divUp divides rounding up (VIR_DIV_UP).
func divUp(a, b uint64) uint64 {
	if a == 0 {
		return 0
	}
	return (a-1)/b + 1
}

// memoryKiB converts value in unit to KiB as virDomainParseMemory does:
// scale 1024 when there is no unit, bounded by maxMemoryBytes, rounded up.
func memoryKiB(value uint64, unit string) (uint64, error) {
	b, err := ScaleInteger(value, unit, 1024, maxMemoryBytes)
	if err != nil {
		return 0, err
	}
	kib := divUp(b, 1024)
	if kib >= divUp(maxMemoryBytes, 1024) {
		return 0, errf(ErrOverflow, "size value too large")
	}
	return kib, nil
}

// limitKiB converts a memtune limit to KiB as virDomainParseMemoryLimit
// does: values over UnlimitedKiB become UnlimitedKiB.
func limitKiB(value uint64, unit string) (uint64, error) {
	b, err := ScaleInteger(value, unit, 1024, UnlimitedKiB<<10)
	if err != nil {
		return 0, err
	}
	return min(divUp(b, 1024), UnlimitedKiB), nil
}
