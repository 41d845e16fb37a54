package rpc

import (
	"reflect"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/xdr"
)

func TestTypedParamsRoundTrip(t *testing.T) {
	in := []driver.Param{
		{Field: "i", Value: int32(-3)}, {Field: "u", Value: uint32(4)}, {Field: "ll", Value: int64(-5)},
		{Field: "ull", Value: uint64(6)}, {Field: "d", Value: 1.5}, {Field: "b", Value: true}, {Field: "s", Value: "x"},
	}
	wire := toWireParams(in, typedParamStringOkay)
	wantTypes := []uint32{xdr.ParamInt, xdr.ParamUint, xdr.ParamLLong, xdr.ParamULLong, xdr.ParamDouble, xdr.ParamBoolean, xdr.ParamString}
	for i, p := range wire {
		if p.Value.D != wantTypes[i] {
			t.Errorf("%s: type %d, want %d", p.Field, p.Value.D, wantTypes[i])
		}
	}
	// Through the codec, as a client would send them back.
	b, err := xdr.Marshal(&libvirt.DomainSetMemoryParametersArgs{Params: wire})
	if err != nil {
		t.Fatal(err)
	}
	var args libvirt.DomainSetMemoryParametersArgs
	if err := xdr.Unmarshal(b, &args); err != nil {
		t.Fatal(err)
	}
	back, err := fromWireParams(args.Params, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, in) {
		t.Fatalf("round trip %v, want %v", back, in)
	}
	if got := toWireParams(in, 0); len(got) != len(in)-1 {
		t.Errorf("without STRING_OKAY: %d parameters, want the string left out", len(got))
	}
}

func TestGetParamsCounts(t *testing.T) {
	get := func() ([]driver.Param, error) {
		return []driver.Param{{Field: "a", Value: uint64(1)}, {Field: "b", Value: "s"}, {Field: "c", Value: uint64(3)}}, nil
	}
	if ps, n, err := getParams(0, typedParamStringOkay, "api", get); err != nil || ps != nil || n != 3 {
		t.Errorf("count: %v %d %v", ps, n, err)
	}
	if _, n, _ := getParams(0, 0, "api", get); n != 2 {
		t.Errorf("count without strings: %d", n)
	}
	if ps, _, _ := getParams(2, typedParamStringOkay, "api", get); len(ps) != 2 || ps[1].Field != "b" {
		t.Errorf("first two: %v", ps)
	}
	for _, n := range []int32{-1, paramsMax + 1} {
		if _, _, err := getParams(n, 0, "api", get); err == nil {
			t.Errorf("nparams %d accepted", n)
		}
	}
	long := make([]byte, fieldLengthMax)
	for i := range long {
		long[i] = 'x'
	}
	if _, err := fromWireParams([]libvirt.TypedParam{{Field: string(long), Value: *libvirt.NewTypedParamValueUllong(1)}}, "api"); err == nil {
		t.Error("an over-long field name was accepted")
	}
}
