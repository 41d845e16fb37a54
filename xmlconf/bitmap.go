package xmlconf

import (
	"slices"
	"strconv"
	"strings"
)

// maxBitmapBit bounds CPU and node sets (VIR_DOMAIN_CPUMASK_LEN).
const maxBitmapBit = 16384

// ParseBitmap reads a CPU or NUMA node set ("0-3,^2,8") as libvirt's
// virBitmapParse does and returns its members in ascending order.
func ParseBitmap(s string) ([]int, error) {
	set := map[int]bool{}
	bad := errf(ErrInvalidArg, "Failed to parse bitmap '%s'", s)
	cur := strings.TrimLeft(s, " \t\n\v\f\r")
	if cur == "" {
		return nil, bad
	}
	for cur != "" {
		neg := strings.HasPrefix(cur, "^")
		cur = strings.TrimPrefix(cur, "^")
		start, rest, ok := leadingInt(cur)
		if !ok {
			return nil, bad
		}
		cur = strings.TrimLeft(rest, " \t\n\v\f\r")
		last := start
		if strings.HasPrefix(cur, "-") {
			if neg {
				return nil, bad
			}
			if last, rest, ok = leadingInt(strings.TrimLeft(cur[1:], " \t\n\v\f\r")); !ok || last < start {
				return nil, bad
			}
			cur = strings.TrimLeft(rest, " \t\n\v\f\r")
		}
		for i := start; i <= last; i++ {
			set[i] = !neg
		}
		switch {
		case strings.HasPrefix(cur, ","):
			cur = strings.TrimLeft(cur[1:], " \t\n\v\f\r")
		case cur != "":
			return nil, bad
		}
	}
	var out []int
	for i, on := range set {
		if on {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out, nil
}

// leadingInt reads the decimal number at the start of s.
func leadingInt(s string) (int, string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	v, err := strconv.Atoi(s[:i])
	if err != nil || v >= maxBitmapBit {
		return 0, s, false
	}
	return v, s[i:], true
}

// FormatBitmap writes members (ascending) as libvirt's virBitmapFormat
// does: ranges of consecutive members as "a-b", joined by commas.
func FormatBitmap(members []int) string {
	var parts []string
	for i := 0; i < len(members); {
		j := i
		for j+1 < len(members) && members[j+1] == members[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(members[i]))
		} else {
			parts = append(parts, strconv.Itoa(members[i])+"-"+strconv.Itoa(members[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// canonicalBitmap parses and rewrites a set; an empty set is returned as
// "" with no error.
func canonicalBitmap(s string) (string, error) {
	members, err := ParseBitmap(s)
	if err != nil {
		return "", err
	}
	return FormatBitmap(members), nil
}
