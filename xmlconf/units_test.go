package xmlconf

import (
	"math"
	"testing"
)

func TestScaleInteger(t *testing.T) {
	tests := []struct {
		suffix string
		want   uint64
	}{
		{"", 1024}, {"b", 1}, {"B", 1}, {"byte", 1}, {"bytes", 1}, {"BYTES", 1},
		{"k", 1 << 10}, {"K", 1 << 10}, {"KiB", 1 << 10}, {"kib", 1 << 10}, {"KIB", 1 << 10},
		{"KB", 1000}, {"kB", 1000}, {"Kb", 1000},
		{"M", 1 << 20}, {"MiB", 1 << 20}, {"MB", 1000000},
		{"G", 1 << 30}, {"GiB", 1 << 30}, {"GB", 1000000000},
		{"T", 1 << 40}, {"TiB", 1 << 40}, {"TB", 1000000000000},
		{"P", 1 << 50}, {"PiB", 1 << 50}, {"PB", 1000000000000000},
		{"E", 1 << 60}, {"EiB", 1 << 60}, {"EB", 1000000000000000000},
	}
	for _, tc := range tests {
		t.Run("suffix "+tc.suffix, func(t *testing.T) {
			got, err := ScaleInteger(1, tc.suffix, 1024, math.MaxUint64)
			if err != nil || got != tc.want {
				t.Errorf("ScaleInteger(1, %q) = %d, %v; want %d", tc.suffix, got, err, tc.want)
			}
		})
	}
}

func TestScaleIntegerErrors(t *testing.T) {
	tests := []struct {
		value  uint64
		suffix string
		limit  uint64
		kind   ErrorKind
		msg    string
	}{
		{1, "X", math.MaxUint64, ErrInvalidArg, "unknown suffix 'X'"},
		{1, "KiBi", math.MaxUint64, ErrInvalidArg, "unknown suffix 'KiBi'"},
		{1, "Kx", math.MaxUint64, ErrInvalidArg, "unknown suffix 'Kx'"},
		{1, "iB", math.MaxUint64, ErrInvalidArg, "unknown suffix 'iB'"},
		{1, "Z", math.MaxUint64, ErrInvalidArg, "unknown suffix 'Z'"},
		{16, "EiB", math.MaxUint64, ErrOverflow, "value too large: 16EiB"},
		{2, "k", 2047, ErrOverflow, "value too large: 2k"},
	}
	for _, tc := range tests {
		t.Run(tc.suffix, func(t *testing.T) {
			_, err := ScaleInteger(tc.value, tc.suffix, 1024, tc.limit)
			wantError(t, err, tc.kind, tc.msg)
		})
	}
}

func TestParseUint(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"42", 42, true}, {" 42", 42, true}, {"+42", 42, true},
		{"18446744073709551615", math.MaxUint64, true},
		{"18446744073709551616", 0, false}, {"-1", 0, false}, {"42 ", 0, false},
		{"", 0, false}, {"x", 0, false}, {"0x10", 0, false}, {"1.5", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseUint(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseUint(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMemoryUnits(t *testing.T) {
	tests := []struct {
		value, unit, want string
	}{
		{"500000", "", "500000"},
		{"1", "b", "1"},
		{"1024", "bytes", "1"},
		{"1025", "bytes", "2"},
		{"1", "k", "1"},
		{"1", "KB", "1"},
		{"1", "M", "1024"},
		{"1", "MiB", "1024"},
		{"1", "MB", "977"},
		{"1", "G", "1048576"},
		{"1", "GB", "976563"},
		{"1", "T", "1073741824"},
		{"1", "TB", "976562500"},
		{"1", "P", "1099511627776"},
		{"1", "E", "1125899906842624"},
		{"1", "EB", "976562500000000"},
	}
	for _, tc := range tests {
		t.Run(tc.value+tc.unit, func(t *testing.T) {
			mem := "<memory>" + tc.value + "</memory>"
			if tc.unit != "" {
				mem = "<memory unit='" + tc.unit + "'>" + tc.value + "</memory>"
			}
			d, _, err := ParseDomain([]byte(edit("<memory unit='KiB'>500000</memory>", mem)), conformanceOpts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := FormatDomain(d, FormatOptions{Inactive: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"<memory unit='KiB'>" + tc.want + "</memory>", "<currentMemory unit='KiB'>" + tc.want + "</currentMemory>"} {
				if !containsLine(got, want) {
					t.Errorf("output lacks %s:\n%s", want, got)
				}
			}
		})
	}
}

func containsLine(doc, line string) bool {
	for _, l := range splitLines(doc) {
		if l == "  "+line {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

func TestBitmap(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"0", "0", true}, {"0-3", "0-3", true}, {"3,1,2", "1-3", true}, {"0-7,^3", "0-2,4-7", true},
		{" 1 , 2 - 4 ", "1-4", true}, {"1,", "1", true}, {"1,3,5", "1,3,5", true}, {"1,^1", "", true},
		{"", "", false}, {"a", "", false}, {"4-2", "", false}, {"^1-2", "", false},
		{"16384", "", false}, {"1;2", "", false},
	}
	for _, tc := range tests {
		got, err := canonicalBitmap(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("canonicalBitmap(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
