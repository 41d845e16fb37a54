package xdr

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	xdr2 "github.com/davecgh/go-xdr/xdr2"
	libvirt "github.com/digitalocean/go-libvirt"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeKnownBytes(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"define flags", &libvirt.DomainDefineXMLFlagsArgs{XML: "<domain type='lxc'/>", Flags: libvirt.DomainDefineValidate},
			"00000014 3c646f6d61696e20747970653d276c7863272f3e 00000001"},
		{"string padding", &libvirt.ConnectGetUriRet{Uri: "lxc"}, "00000003 6c786300"},
		{"optional absent", &libvirt.ConnectOpenArgs{Flags: 1}, "00000000 00000001"},
		{"optional present", &libvirt.ConnectOpenArgs{Name: libvirt.OptString{"a"}}, "00000001 00000001 61000000 00000000"},
		{"uuid fixed opaque", &libvirt.Domain{Name: "x", UUID: libvirt.UUID{1, 2}, ID: -1},
			"00000001 78000000 01020000000000000000000000000000 ffffffff"},
		{"hyper", &libvirt.ConnectGetLibVersionRet{LibVer: 9000000}, "00000000 00895440"},
		{"char array", &struct{ M [2]int8 }{M: [2]int8{'x', -1}}, "00000078 ffffffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if want := mustHex(t, tt.want); !bytes.Equal(got, want) {
				t.Fatalf("got %x, want %x", got, want)
			}
		})
	}
}

func TestNodeGetInfoRetSize(t *testing.T) {
	b, err := Marshal(&libvirt.NodeGetInfoRet{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 160 {
		t.Fatalf("NodeGetInfoRet encodes to %d bytes, want 160", len(b))
	}
}

func TestLenientOptionalPointer(t *testing.T) {
	// go-libvirt's ConnectToURI sends the "present" flag as 0x01000000.
	data := mustHex(t, "01000000 0000000d 6c78633a2f2f2f73797374656d000000 00000000")
	var a libvirt.ConnectOpenArgs
	if err := Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Name) != 1 || a.Name[0] != "lxc:///system" {
		t.Fatalf("name = %q", a.Name)
	}
}

func TestTypedParamRoundTrip(t *testing.T) {
	in := libvirt.DomainSetSchedulerParametersFlagsArgs{
		Dom: libvirt.Domain{Name: "ct1"},
		Params: []libvirt.TypedParam{
			{Field: "cpu_shares", Value: *libvirt.NewTypedParamValueUllong(512)},
			{Field: "vcpu_quota", Value: *libvirt.NewTypedParamValueLlong(-1)},
			{Field: "i", Value: *libvirt.NewTypedParamValueInt(-7)},
			{Field: "u", Value: *libvirt.NewTypedParamValueUint(7)},
			{Field: "d", Value: *libvirt.NewTypedParamValueDouble(1.5)},
			{Field: "b", Value: *libvirt.NewTypedParamValueBoolean(1)},
			{Field: "s", Value: *libvirt.NewTypedParamValueString("8:0,100")},
		},
		Flags: 3,
	}
	got, err := Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	var oracle bytes.Buffer
	if _, err := xdr2.Marshal(&oracle, &in); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, oracle.Bytes()) {
		t.Fatalf("encoding differs from xdr2:\n got %x\nwant %x", got, oracle)
	}
	var out libvirt.DomainSetSchedulerParametersFlagsArgs
	if err := Unmarshal(got, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", out, in)
	}
}

func TestDecodeRejectsHostileLengths(t *testing.T) {
	tests := []struct {
		name string
		data string
		v    any
	}{
		{"string longer than input", "00000010 6162", &libvirt.ConnectGetUriRet{}},
		{"string over the limit", "7fffffff", &libvirt.ConnectGetUriRet{}},
		{"array count too large", "00ffffff", &libvirt.ConnectListAllDomainsRet{}},
		{"truncated int", "0000", &libvirt.ConnectSupportsFeatureArgs{}},
		{"trailing bytes", "00000001 00000002", &libvirt.ConnectSupportsFeatureArgs{}},
		{"unknown typed param", "00000001 61000000 00000009 00000000", &libvirt.TypedParam{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Unmarshal(mustHex(t, tt.data), tt.v); err == nil {
				t.Fatalf("decoded %x without error", tt.data)
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	seed, _ := Marshal(&libvirt.DomainSetSchedulerParametersFlagsArgs{
		Params: []libvirt.TypedParam{{Field: "cpu_shares", Value: *libvirt.NewTypedParamValueUllong(1)}},
	})
	f.Add(seed)
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []any{
			&libvirt.DomainSetSchedulerParametersFlagsArgs{},
			&libvirt.ConnectOpenArgs{},
			&libvirt.ConnectListAllDomainsRet{},
			&libvirt.NodeGetInfoRet{},
		} {
			if Unmarshal(data, v) != nil {
				continue
			}
			// Whatever decodes must encode back to the same bytes, except
			// for lenient optional-pointer flags, which normalise to 1.
			out, err := Marshal(v)
			if err != nil {
				t.Fatalf("%T decoded but does not encode: %v", v, err)
			}
			if len(out) != len(data) {
				t.Fatalf("%T: re-encoded %d bytes from %d", v, len(out), len(data))
			}
		}
	})
}
