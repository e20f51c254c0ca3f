package redisstore

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"

	"golang.org/x/oauth2"
)

// typed is one extra: its basic Go type (empty for JSON values: maps, slices,
// nil) and its value.
type typed struct {
	T string          `json:"t,omitempty"`
	V json.RawMessage `json:"v"`
}

// extras reads a token's extras. oauth2.Token keeps them in an unexported field
// and offers no way to list them, so they are read by reflection — read only:
// nothing is set and no unexported value is turned back into an interface. A
// type this cannot represent is left out (see [TokenStore]).
func extras(tok *oauth2.Token) (map[string]typed, url.Values) {
	raw := reflect.ValueOf(tok).Elem().FieldByName("raw")
	if !raw.IsValid() || raw.Kind() != reflect.Interface || raw.IsNil() {
		return nil, nil
	}
	v := raw.Elem()
	if v.Type() == reflect.TypeFor[url.Values]() {
		vals := make(url.Values, v.Len())
		for it := v.MapRange(); it.Next(); {
			s := it.Value()
			for i := range s.Len() {
				vals[it.Key().String()] = append(vals[it.Key().String()], s.Index(i).String())
			}
		}
		return nil, vals
	}
	if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
		return nil, nil
	}
	out := make(map[string]typed, v.Len())
	for it := v.MapRange(); it.Next(); {
		if t, ok := encodeTyped(it.Value()); ok {
			out[it.Key().String()] = t
		}
	}
	return out, nil
}

func encodeTyped(v reflect.Value) (typed, bool) {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	var t typed
	switch v.Kind() {
	case reflect.Bool:
		t.T, t.V = "bool", []byte(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		t.T, t.V = v.Kind().String(), []byte(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		t.T, t.V = v.Kind().String(), []byte(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		t.T = v.Kind().String()
		b, err := json.Marshal(v.Float())
		if err != nil { // NaN, Inf
			return t, false
		}
		t.V = b
	case reflect.String:
		t.T = "string"
		t.V, _ = json.Marshal(v.String())
	default:
		j, ok := plain(v)
		if !ok {
			return t, false
		}
		b, err := json.Marshal(j)
		if err != nil {
			return t, false
		}
		t.V = b
	}
	return t, true
}

// plain copies a value of JSON shape (nil, scalars, string-keyed maps, slices)
// into fresh interface values; ok is false for anything else.
func plain(v reflect.Value) (any, bool) {
	switch v.Kind() {
	case reflect.Invalid:
		return nil, true
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil, true
		}
		return plain(v.Elem())
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.String:
		return v.String(), true
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil, false
		}
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			e, ok := plain(it.Value())
			if !ok {
				return nil, false
			}
			m[it.Key().String()] = e
		}
		return m, true
	case reflect.Slice, reflect.Array:
		s := make([]any, v.Len())
		for i := range s {
			e, ok := plain(v.Index(i))
			if !ok {
				return nil, false
			}
			s[i] = e
		}
		return s, true
	}
	return nil, false
}

// value decodes an extra back to its Go type.
func (t typed) value() any {
	switch t.T {
	case "bool":
		b, _ := strconv.ParseBool(string(t.V))
		return b
	case "int", "int8", "int16", "int32", "int64":
		n, _ := strconv.ParseInt(string(t.V), 10, 64)
		switch t.T {
		case "int":
			return int(n)
		case "int8":
			return int8(n)
		case "int16":
			return int16(n)
		case "int32":
			return int32(n)
		}
		return n
	case "uint", "uint8", "uint16", "uint32", "uint64", "uintptr":
		n, _ := strconv.ParseUint(string(t.V), 10, 64)
		switch t.T {
		case "uint":
			return uint(n)
		case "uint8":
			return uint8(n)
		case "uint16":
			return uint16(n)
		case "uint32":
			return uint32(n)
		case "uintptr":
			return uintptr(n)
		}
		return n
	case "float32", "float64":
		f, _ := strconv.ParseFloat(string(t.V), 64)
		if t.T == "float32" {
			return float32(f)
		}
		return f
	case "string":
		var s string
		_ = json.Unmarshal(t.V, &s)
		return s
	}
	var v any
	_ = json.Unmarshal(t.V, &v)
	return v
}
