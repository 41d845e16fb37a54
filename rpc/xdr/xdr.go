// Package xdr encodes and decodes the XDR (RFC 4506) payloads of the
// libvirt remote protocol, using the exported wire structs of
// github.com/digitalocean/go-libvirt as the schema.
//
// It knows go-libvirt's struct conventions and nothing about procedures,
// sockets or containers:
//
//   - int8, int16, int32 and their unsigned forms take 4 bytes; 64-bit
//     integers and float64 take 8.
//   - string is a length-prefixed, padded byte string (at most [MaxString]).
//   - []byte is variable opaque data, [N]byte fixed opaque data.
//   - []int8 and [N]int8 are C char arrays: 4 bytes per element, as rpcgen
//     encodes them.
//   - A named slice type whose name starts with "Opt" (OptString,
//     OptDomain, ...) is an optional pointer: a boolean discriminant followed
//     by at most one element. Any non-zero discriminant means "present",
//     because glibc's xdr_bool accepts it and go-libvirt's ConnectToURI
//     sends 0x01000000.
//   - A struct with the fields D uint32 and I interface{} (TypedParamValue)
//     is libvirt's typed-parameter union.
//
// Decoding never trusts a declared length: every count must fit in the
// bytes that remain, so a hostile packet cannot make the decoder allocate
// more than the packet's own size.
package xdr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
)

// MaxString is the longest string the protocol allows (REMOTE_STRING_MAX).
const MaxString = 4 * 1024 * 1024

// Typed-parameter discriminants (VIR_TYPED_PARAM_*).
const (
	ParamInt     = 1
	ParamUint    = 2
	ParamLLong   = 3
	ParamULLong  = 4
	ParamDouble  = 5
	ParamBoolean = 6
	ParamString  = 7
)

// ErrShort is returned when the input ends before the value does.
var ErrShort = errors.New("xdr: input too short")

// Marshal returns the XDR encoding of v, which must be a pointer to a struct
// or a value the codec understands.
func Marshal(v any) ([]byte, error) {
	return Append(nil, v)
}

// Append appends the XDR encoding of v to buf.
func Append(buf []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return buf, nil
		}
		rv = rv.Elem()
	}
	c, err := codecFor(rv.Type())
	if err != nil {
		return buf, err
	}
	return c.enc(buf, rv)
}

// Unmarshal decodes data into the value v points to. Bytes left over after
// the value are an error, as they are for libvirt's own dispatcher.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("xdr: Unmarshal needs a non-nil pointer, got %T", v)
	}
	rv = rv.Elem()
	c, err := codecFor(rv.Type())
	if err != nil {
		return err
	}
	d := decoder{buf: data}
	if err := c.dec(&d, rv); err != nil {
		return err
	}
	if len(d.buf) != 0 {
		return fmt.Errorf("xdr: %d trailing bytes after %s", len(d.buf), rv.Type())
	}
	return nil
}

type encFunc func(buf []byte, v reflect.Value) ([]byte, error)
type decFunc func(d *decoder, v reflect.Value) error

// codec is the compiled encoder and decoder of one Go type. minSize is the
// smallest number of bytes one value can take, used to bound counts.
type codec struct {
	enc     encFunc
	dec     decFunc
	minSize int
}

var codecs sync.Map // reflect.Type -> *codec

func codecFor(t reflect.Type) (*codec, error) {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec), nil
	}
	c, err := build(t, map[reflect.Type]*codec{})
	if err != nil {
		return nil, err
	}
	codecs.Store(t, c)
	return c, nil
}

var typedParamValueName = "TypedParamValue"

func build(t reflect.Type, building map[reflect.Type]*codec) (*codec, error) {
	if c, ok := building[t]; ok {
		return c, nil // recursive type: filled in below
	}
	switch t.Kind() {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int:
		return &codec{enc: encInt32, dec: decInt32, minSize: 4}, nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint:
		return &codec{enc: encUint32, dec: decUint32, minSize: 4}, nil
	case reflect.Bool:
		return &codec{enc: encBool, dec: decBool, minSize: 4}, nil
	case reflect.Int64:
		return &codec{enc: encInt64, dec: decInt64, minSize: 8}, nil
	case reflect.Uint64:
		return &codec{enc: encUint64, dec: decUint64, minSize: 8}, nil
	case reflect.Float64:
		return &codec{enc: encFloat64, dec: decFloat64, minSize: 8}, nil
	case reflect.String:
		return &codec{enc: encString, dec: decString, minSize: 4}, nil
	case reflect.Array:
		return buildArray(t, building)
	case reflect.Slice:
		return buildSlice(t, building)
	case reflect.Struct:
		if t.Name() == typedParamValueName && t.NumField() == 2 &&
			t.Field(0).Name == "D" && t.Field(1).Type.Kind() == reflect.Interface {
			return &codec{enc: encUnion, dec: decUnion, minSize: 8}, nil
		}
		return buildStruct(t, building)
	}
	return nil, fmt.Errorf("xdr: unsupported type %s", t)
}

func buildArray(t reflect.Type, building map[reflect.Type]*codec) (*codec, error) {
	n := t.Len()
	if t.Elem().Kind() == reflect.Uint8 {
		return &codec{
			enc: func(buf []byte, v reflect.Value) ([]byte, error) {
				for i := 0; i < n; i++ {
					buf = append(buf, byte(v.Index(i).Uint()))
				}
				for i := n; i%4 != 0; i++ {
					buf = append(buf, 0)
				}
				return buf, nil
			},
			dec: func(d *decoder, v reflect.Value) error {
				b, err := d.take(pad(n))
				if err != nil {
					return err
				}
				reflect.Copy(v, reflect.ValueOf(b[:n]))
				return nil
			},
			minSize: pad(n),
		}, nil
	}
	ec, err := build(t.Elem(), building)
	if err != nil {
		return nil, err
	}
	return &codec{
		enc: func(buf []byte, v reflect.Value) ([]byte, error) {
			var err error
			for i := 0; i < n && err == nil; i++ {
				buf, err = ec.enc(buf, v.Index(i))
			}
			return buf, err
		},
		dec: func(d *decoder, v reflect.Value) error {
			for i := 0; i < n; i++ {
				if err := ec.dec(d, v.Index(i)); err != nil {
					return err
				}
			}
			return nil
		},
		minSize: n * ec.minSize,
	}, nil
}

func buildSlice(t reflect.Type, building map[reflect.Type]*codec) (*codec, error) {
	if t.Elem().Kind() == reflect.Uint8 && !strings.HasPrefix(t.Name(), "Opt") {
		return &codec{enc: encOpaque, dec: decOpaque, minSize: 4}, nil
	}
	ec, err := build(t.Elem(), building)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(t.Name(), "Opt") {
		return optional(t, ec), nil
	}
	return &codec{
		enc: func(buf []byte, v reflect.Value) ([]byte, error) {
			n := v.Len()
			buf = binary.BigEndian.AppendUint32(buf, uint32(n))
			var err error
			for i := 0; i < n && err == nil; i++ {
				buf, err = ec.enc(buf, v.Index(i))
			}
			return buf, err
		},
		dec: func(d *decoder, v reflect.Value) error {
			n, err := d.count(ec.minSize)
			if err != nil {
				return err
			}
			s := reflect.MakeSlice(t, n, n)
			for i := 0; i < n; i++ {
				if err := ec.dec(d, s.Index(i)); err != nil {
					return err
				}
			}
			v.Set(s)
			return nil
		},
		minSize: 4,
	}, nil
}

// optional encodes libvirt's optional pointers (remote_string and friends).
func optional(t reflect.Type, ec *codec) *codec {
	return &codec{
		enc: func(buf []byte, v reflect.Value) ([]byte, error) {
			if v.Len() == 0 {
				return binary.BigEndian.AppendUint32(buf, 0), nil
			}
			if v.Len() > 1 {
				return buf, fmt.Errorf("xdr: optional %s holds %d values", t, v.Len())
			}
			buf = binary.BigEndian.AppendUint32(buf, 1)
			return ec.enc(buf, v.Index(0))
		},
		dec: func(d *decoder, v reflect.Value) error {
			present, err := d.uint32()
			if err != nil {
				return err
			}
			if present == 0 {
				v.Set(reflect.Zero(t))
				return nil
			}
			s := reflect.MakeSlice(t, 1, 1)
			if err := ec.dec(d, s.Index(0)); err != nil {
				return err
			}
			v.Set(s)
			return nil
		},
		minSize: 4,
	}
}

func buildStruct(t reflect.Type, building map[reflect.Type]*codec) (*codec, error) {
	c := &codec{}
	building[t] = c
	var fields []int
	var fcs []*codec
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fc, err := build(f.Type, building)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.Name, err)
		}
		fields = append(fields, i)
		fcs = append(fcs, fc)
		c.minSize += fc.minSize
	}
	c.enc = func(buf []byte, v reflect.Value) ([]byte, error) {
		var err error
		for k, i := range fields {
			if buf, err = fcs[k].enc(buf, v.Field(i)); err != nil {
				return buf, err
			}
		}
		return buf, nil
	}
	c.dec = func(d *decoder, v reflect.Value) error {
		for k, i := range fields {
			if err := fcs[k].dec(d, v.Field(i)); err != nil {
				return fmt.Errorf("%s.%s: %w", t.Name(), t.Field(i).Name, err)
			}
		}
		return nil
	}
	delete(building, t)
	return c, nil
}

func pad(n int) int { return (n + 3) &^ 3 }

func encInt32(buf []byte, v reflect.Value) ([]byte, error) {
	return binary.BigEndian.AppendUint32(buf, uint32(int32(v.Int()))), nil
}

func encUint32(buf []byte, v reflect.Value) ([]byte, error) {
	return binary.BigEndian.AppendUint32(buf, uint32(v.Uint())), nil
}

func encBool(buf []byte, v reflect.Value) ([]byte, error) {
	var b uint32
	if v.Bool() {
		b = 1
	}
	return binary.BigEndian.AppendUint32(buf, b), nil
}

func encInt64(buf []byte, v reflect.Value) ([]byte, error) {
	return binary.BigEndian.AppendUint64(buf, uint64(v.Int())), nil
}

func encUint64(buf []byte, v reflect.Value) ([]byte, error) {
	return binary.BigEndian.AppendUint64(buf, v.Uint()), nil
}

func encFloat64(buf []byte, v reflect.Value) ([]byte, error) {
	return binary.BigEndian.AppendUint64(buf, math.Float64bits(v.Float())), nil
}

func encString(buf []byte, v reflect.Value) ([]byte, error) {
	return appendBytes(buf, v.String()), nil
}

func encOpaque(buf []byte, v reflect.Value) ([]byte, error) {
	return appendBytes(buf, string(v.Bytes())), nil
}

func appendBytes(buf []byte, s string) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
	buf = append(buf, s...)
	for i := len(s); i%4 != 0; i++ {
		buf = append(buf, 0)
	}
	return buf
}

func decInt32(d *decoder, v reflect.Value) error {
	u, err := d.uint32()
	if err != nil {
		return err
	}
	v.SetInt(int64(int32(u)))
	return nil
}

func decUint32(d *decoder, v reflect.Value) error {
	u, err := d.uint32()
	if err != nil {
		return err
	}
	v.SetUint(uint64(u))
	return nil
}

func decBool(d *decoder, v reflect.Value) error {
	u, err := d.uint32()
	if err != nil {
		return err
	}
	v.SetBool(u != 0)
	return nil
}

func decInt64(d *decoder, v reflect.Value) error {
	u, err := d.uint64()
	if err != nil {
		return err
	}
	v.SetInt(int64(u))
	return nil
}

func decUint64(d *decoder, v reflect.Value) error {
	u, err := d.uint64()
	if err != nil {
		return err
	}
	v.SetUint(u)
	return nil
}

func decFloat64(d *decoder, v reflect.Value) error {
	u, err := d.uint64()
	if err != nil {
		return err
	}
	v.SetFloat(math.Float64frombits(u))
	return nil
}

func decString(d *decoder, v reflect.Value) error {
	b, err := d.bytes(MaxString)
	if err != nil {
		return err
	}
	v.SetString(string(b))
	return nil
}

func decOpaque(d *decoder, v reflect.Value) error {
	b, err := d.bytes(len(d.buf))
	if err != nil {
		return err
	}
	v.SetBytes(append([]byte(nil), b...))
	return nil
}

// encUnion encodes a TypedParamValue: the discriminant D, then the arm that
// D selects, taken from the value held in I.
func encUnion(buf []byte, v reflect.Value) ([]byte, error) {
	disc := uint32(v.Field(0).Uint())
	val := v.Field(1).Elem()
	if !val.IsValid() {
		return buf, fmt.Errorf("xdr: typed parameter value of type %d is empty", disc)
	}
	buf = binary.BigEndian.AppendUint32(buf, disc)
	switch disc {
	case ParamInt, ParamBoolean:
		return encNumber32(buf, val)
	case ParamUint:
		return encNumber32(buf, val)
	case ParamLLong, ParamULLong:
		switch val.Kind() {
		case reflect.Int, reflect.Int64, reflect.Int32:
			return binary.BigEndian.AppendUint64(buf, uint64(val.Int())), nil
		case reflect.Uint, reflect.Uint64, reflect.Uint32:
			return binary.BigEndian.AppendUint64(buf, val.Uint()), nil
		}
	case ParamDouble:
		if val.Kind() == reflect.Float64 || val.Kind() == reflect.Float32 {
			return binary.BigEndian.AppendUint64(buf, math.Float64bits(val.Float())), nil
		}
	case ParamString:
		if val.Kind() == reflect.String {
			return appendBytes(buf, val.String()), nil
		}
	}
	return buf, fmt.Errorf("xdr: typed parameter of type %d cannot hold %s", disc, val.Type())
}

func encNumber32(buf []byte, val reflect.Value) ([]byte, error) {
	switch val.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.BigEndian.AppendUint32(buf, uint32(val.Int())), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return binary.BigEndian.AppendUint32(buf, uint32(val.Uint())), nil
	case reflect.Bool:
		return encBool(buf, val)
	}
	return buf, fmt.Errorf("xdr: 32-bit typed parameter cannot hold %s", val.Type())
}

// decUnion decodes a TypedParamValue. The Go types chosen for each arm are
// the ones go-libvirt's own client produces, so handlers see the same
// values whichever client sent them.
func decUnion(d *decoder, v reflect.Value) error {
	disc, err := d.uint32()
	if err != nil {
		return err
	}
	var val any
	switch disc {
	case ParamInt, ParamBoolean:
		u, e := d.uint32()
		val, err = int32(u), e
	case ParamUint:
		u, e := d.uint32()
		val, err = u, e
	case ParamLLong:
		u, e := d.uint64()
		val, err = int64(u), e
	case ParamULLong:
		u, e := d.uint64()
		val, err = u, e
	case ParamDouble:
		u, e := d.uint64()
		val, err = math.Float64frombits(u), e
	case ParamString:
		b, e := d.bytes(MaxString)
		val, err = string(b), e
	default:
		return fmt.Errorf("xdr: unknown typed parameter type %d", disc)
	}
	if err != nil {
		return err
	}
	v.Field(0).SetUint(uint64(disc))
	v.Field(1).Set(reflect.ValueOf(val))
	return nil
}

// decoder reads from a byte slice, consuming it as it goes.
type decoder struct {
	buf []byte
}

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.buf) {
		return nil, ErrShort
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b, nil
}

func (d *decoder) uint32() (uint32, error) {
	b, err := d.take(4)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b), nil
}

func (d *decoder) uint64() (uint64, error) {
	b, err := d.take(8)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(b), nil
}

// count reads an array length and checks that that many elements of at
// least minSize bytes each can still be in the input.
func (d *decoder) count(minSize int) (int, error) {
	n, err := d.uint32()
	if err != nil {
		return 0, err
	}
	if minSize < 1 {
		minSize = 1
	}
	if uint64(n)*uint64(minSize) > uint64(len(d.buf)) {
		return 0, fmt.Errorf("xdr: array of %d elements exceeds the %d bytes left", n, len(d.buf))
	}
	return int(n), nil
}

// bytes reads a length-prefixed, padded byte string of at most max bytes.
func (d *decoder) bytes(max int) ([]byte, error) {
	n, err := d.uint32()
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("xdr: string of %d bytes exceeds the limit of %d", n, max)
	}
	if uint64(pad(int(n))) > uint64(len(d.buf)) {
		return nil, ErrShort
	}
	b, _ := d.take(pad(int(n)))
	return b[:n], nil
}
