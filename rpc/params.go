package rpc

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc/xdr"
)

// Typed parameters (virTypedParameter) cross the wire as a field name and
// a discriminated union; the driver sees them as driver.Param with a Go
// value of the matching type.

// typedParamStringOkay is VIR_TYPED_PARAM_STRING_OKAY: the client can
// receive string parameters.
const typedParamStringOkay = 4

// Limits of the remote protocol (REMOTE_*_PARAMETERS_MAX and friends).
const (
	paramsMax       = 16  // memory, scheduler, blkio and block stats parameters
	cpuStatsParams  = 16  // REMOTE_NODE_CPU_STATS_MAX
	cpuStatsNCPUs   = 128 // REMOTE_DOMAIN_GET_CPU_STATS_NCPUS_MAX
	fieldLengthMax  = 80  // VIR_TYPED_PARAM_FIELD_LENGTH, NUL included
	statsRecordsMax = 262144
)

// fromWireParams converts a client's parameters for the driver.
func fromWireParams(in []libvirt.TypedParam, api string) ([]driver.Param, error) {
	if len(in) > paramsMax {
		return nil, rpcErrorf(libvirt.ErrRPC, "too many parameters in %s: %d", api, len(in))
	}
	out := make([]driver.Param, 0, len(in))
	for _, p := range in {
		if len(p.Field) >= fieldLengthMax {
			return nil, invalidArg("parameter name '%s' too long", p.Field)
		}
		v := p.Value.I
		if p.Value.D == xdr.ParamBoolean {
			n, _ := v.(int32)
			v = n != 0
		}
		out = append(out, driver.Param{Field: p.Field, Value: v})
	}
	return out, nil
}

// toWireParams converts the driver's parameters for a client, leaving
// out strings unless the client accepts them (flags has STRING_OKAY).
func toWireParams(in []driver.Param, flags uint32) []libvirt.TypedParam {
	out := make([]libvirt.TypedParam, 0, len(in))
	for _, p := range in {
		var v libvirt.TypedParamValue
		switch x := p.Value.(type) {
		case int32:
			v = libvirt.TypedParamValue{D: xdr.ParamInt, I: x}
		case uint32:
			v = libvirt.TypedParamValue{D: xdr.ParamUint, I: x}
		case int64:
			v = libvirt.TypedParamValue{D: xdr.ParamLLong, I: x}
		case uint64:
			v = libvirt.TypedParamValue{D: xdr.ParamULLong, I: x}
		case float64:
			v = libvirt.TypedParamValue{D: xdr.ParamDouble, I: x}
		case bool:
			v = libvirt.TypedParamValue{D: xdr.ParamBoolean, I: boolInt(x)}
		case string:
			if flags&typedParamStringOkay == 0 {
				continue
			}
			v = libvirt.TypedParamValue{D: xdr.ParamString, I: x}
		default:
			continue
		}
		out = append(out, libvirt.TypedParam{Field: p.Field, Value: v})
	}
	return out
}

// getParams answers a "get parameters" call as libvirt's dispatcher does:
// nparams 0 asks how many parameters there are; otherwise at most
// nparams of them come back.
func getParams(nparams int32, flags uint32, api string, get func() ([]driver.Param, error)) ([]libvirt.TypedParam, int32, error) {
	if nparams < 0 {
		return nil, 0, invalidArg("nparams in %s must be non-negative", api)
	}
	if nparams > paramsMax {
		return nil, 0, rpcErrorf(libvirt.ErrInternalError, "nparams too large")
	}
	ps, err := get()
	if err != nil {
		return nil, 0, err
	}
	wire := toWireParams(ps, flags)
	if nparams == 0 {
		return nil, int32(len(wire)), nil
	}
	if int(nparams) < len(wire) {
		wire = wire[:nparams]
	}
	return wire, 0, nil
}
