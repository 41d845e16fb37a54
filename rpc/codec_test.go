package rpc

import (
	"bytes"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	xdr2 "github.com/davecgh/go-xdr/xdr2"
	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/rpc/xdr"
)

// fill sets v to random contents that XDR can carry: optional pointers
// hold zero or one value, typed parameters a value of their declared type.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int, reflect.Int64:
		v.SetInt(r.Int63n(1<<31) - 1<<30)
	case reflect.Uint8:
		v.SetUint(uint64(r.Intn(256)))
	case reflect.Uint16:
		v.SetUint(uint64(r.Intn(65536)))
	case reflect.Uint32, reflect.Uint, reflect.Uint64:
		v.SetUint(uint64(r.Uint32()))
	case reflect.Float64:
		v.SetFloat(r.Float64())
	case reflect.Bool:
		v.SetBool(r.Intn(2) == 1)
	case reflect.String:
		v.SetString(strings.Repeat("x", r.Intn(7)))
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(r, v.Index(i), depth+1)
		}
	case reflect.Slice:
		n := r.Intn(3)
		if strings.HasPrefix(v.Type().Name(), "Opt") {
			n = r.Intn(2)
		}
		if depth > 4 {
			n = 0
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(libvirt.TypedParamValue{}) {
			vals := []*libvirt.TypedParamValue{
				libvirt.NewTypedParamValueInt(int32(r.Int())), libvirt.NewTypedParamValueUint(r.Uint32()),
				libvirt.NewTypedParamValueLlong(r.Int63()), libvirt.NewTypedParamValueUllong(r.Uint64()),
				libvirt.NewTypedParamValueDouble(r.Float64()), libvirt.NewTypedParamValueBoolean(1),
				libvirt.NewTypedParamValueString("s"),
			}
			v.Set(reflect.ValueOf(*vals[r.Intn(len(vals))]))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			fill(r, v.Field(i), depth+1)
		}
	}
}

// TestCodecMatchesOracle round-trips every argument and return type of the
// dispatch table through the codec and checks each encoding byte for byte
// against davecgh/go-xdr, an independent XDR encoder.
func TestCodecMatchesOracle(t *testing.T) {
	s := newTestServer(t)
	types := map[reflect.Type]bool{reflect.TypeOf(remoteError{}): true}
	for _, h := range s.handlers {
		for _, v := range []any{h.args, h.ret} {
			if v != nil {
				types[reflect.TypeOf(v).Elem()] = true
			}
		}
	}
	for _, v := range eventMessageTypes() {
		types[reflect.TypeOf(v).Elem()] = true
	}
	r := rand.New(rand.NewSource(1))
	for typ := range types {
		t.Run(typ.String(), func(t *testing.T) {
			for i := 0; i < 20; i++ {
				in := reflect.New(typ)
				fill(r, in.Elem(), 0)
				got, err := xdr.Marshal(in.Interface())
				if err != nil {
					t.Fatal(err)
				}
				var oracle bytes.Buffer
				if _, err := xdr2.Marshal(&oracle, in.Interface()); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, oracle.Bytes()) {
					t.Fatalf("encoding differs from xdr2:\n got %x\nwant %x", got, oracle.Bytes())
				}
				out := reflect.New(typ)
				if err := xdr.Unmarshal(got, out.Interface()); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(normalize(in.Interface()), normalize(out.Interface())) {
					t.Fatalf("round trip changed the value:\n in %#v\nout %#v", in.Interface(), out.Interface())
				}
			}
		})
	}
	if len(types) < 30 {
		t.Fatalf("only %d types found in the dispatch table", len(types))
	}
}

// normalize re-encodes v so that empty and nil slices compare equal.
func normalize(v any) string {
	b, _ := xdr.Marshal(v)
	return string(b)
}

func eventMessageTypes() []any {
	return []any{
		&libvirt.DomainEventCallbackLifecycleMsg{}, &libvirt.DomainEventCallbackRebootMsg{},
		&libvirt.DomainEventCallbackMetadataChangeMsg{}, &libvirt.DomainEventLifecycleMsg{},
		&libvirt.DomainEventRebootMsg{}, &libvirt.NetworkEventLifecycleMsg{},
		&libvirt.ConnectEventConnectionClosedMsg{},
	}
}
