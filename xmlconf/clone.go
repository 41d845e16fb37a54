package xmlconf

import (
	"reflect"

	"libvirt.org/go/libvirtxml"
)

// cloneDef returns an independent deep copy of def. It copies field by
// field rather than through XML, so nothing libvirtxml cannot write (an
// ethernet source with addresses but no routes, say) is lost.
func cloneDef(def *libvirtxml.Domain) *libvirtxml.Domain {
	if def == nil {
		return nil
	}
	return deepCopy(reflect.ValueOf(def)).Interface().(*libvirtxml.Domain)
}

// deepCopy copies v and everything it points to. libvirtxml documents are
// trees of structs, pointers, slices, maps and scalars.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(deepCopy(v.Elem()))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for _, k := range v.MapKeys() {
			out.SetMapIndex(k, deepCopy(v.MapIndex(k)))
		}
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.NumField(); i++ {
			if out.Field(i).CanSet() {
				out.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return out
	case reflect.Interface:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(deepCopy(v.Elem()))
		return out
	}
	out := reflect.New(v.Type()).Elem()
	out.Set(v)
	return out
}
