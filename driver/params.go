package driver

import "fmt"

// Param is one of libvirt's typed parameters (virTypedParameter). Value
// holds an int32, uint32, int64, uint64, float64, bool or string, which
// stand for libvirt's INT, UINT, LLONG, ULLONG, DOUBLE, BOOLEAN and
// STRING types.
type Param struct {
	Field string
	Value any
}

// TypedParamStringOkay is VIR_TYPED_PARAM_STRING_OKAY, which clients add
// to the flags of "get parameters" calls.
const TypedParamStringOkay = 4

// paramSpec declares a parameter a setter accepts, with the Go type of
// its value.
type paramSpec struct {
	name string
	zero any
}

// checkParams validates ps against the accepted parameters, as libvirt's
// virTypedParamsValidate does: unknown names and wrong types are errors.
func checkParams(ps []Param, specs ...paramSpec) error {
	for _, p := range ps {
		var spec *paramSpec
		for i := range specs {
			if specs[i].name == p.Field {
				spec = &specs[i]
			}
		}
		if spec == nil {
			return errorf(KindArgumentUnsupported, "parameter '%s' not supported", p.Field)
		}
		if fmt.Sprintf("%T", p.Value) != fmt.Sprintf("%T", spec.zero) {
			return errorf(KindInvalidArg, "invalid type for parameter '%s', expected '%s'", p.Field, typeName(spec.zero))
		}
	}
	return nil
}

func typeName(v any) string {
	switch v.(type) {
	case int32:
		return "int"
	case uint32:
		return "uint"
	case int64:
		return "llong"
	case uint64:
		return "ullong"
	case float64:
		return "double"
	case bool:
		return "boolean"
	case string:
		return "string"
	}
	return "unknown"
}

// firstN returns at most n parameters (the client's buffer size).
func firstN(ps []Param, n int) []Param {
	if n < len(ps) {
		return ps[:n]
	}
	return ps
}
