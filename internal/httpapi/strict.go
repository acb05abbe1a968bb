package httpapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// maxJSONDepth bounds the nesting of a request body.
const maxJSONDepth = 32

// strictKeys walks the JSON document data as it would be decoded into a
// value of type t and refuses what encoding/json lets through: a key twice
// in one object (json keeps the last, so two readers of one body could
// disagree), and a key that names a struct field in another case (json
// matches names case-insensitively). data must already be valid JSON.
func strictKeys(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return walkJSON(dec, t, "", 0)
}

// walkJSON checks the next value of dec, to be decoded into t (nil: any).
func walkJSON(dec *json.Decoder, t reflect.Type, at string, depth int) error {
	if depth > maxJSONDepth {
		return BadRequest("JSON nested deeper than %d levels", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return BadRequest("malformed JSON: %v", err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	t = target(t)
	switch d {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, elem, at+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
	case '{':
		if err := walkObject(dec, t, at, depth); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return BadRequest("malformed JSON: %v", err)
	}
	return nil
}

// walkObject checks the members of an object (its opening brace read).
func walkObject(dec *json.Decoder, t reflect.Type, at string, depth int) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = jsonFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return BadRequest("malformed JSON: %v", err)
		}
		key, _ := tok.(string)
		name := key
		if at != "" {
			name = at + "." + key
		}
		if seen[key] {
			return BadRequest("duplicate key %q: each field may appear once", name)
		}
		seen[key] = true
		ft := elem
		if fields != nil {
			var ok bool
			if ft, ok = fields[key]; !ok {
				return unknownKey(fields, at, name, key)
			}
		}
		if err := walkJSON(dec, ft, name, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// unknownKey is the refusal of a key no field has: named after the field
// it differs from only in case, if any.
func unknownKey(fields map[string]reflect.Type, at, name, key string) error {
	for f := range fields {
		if strings.EqualFold(f, key) {
			if at != "" {
				f = at + "." + f
			}
			return BadRequest("unknown field %q: field names are case-sensitive, did you mean %q?", name, f)
		}
	}
	return BadRequest("unknown field %q", name)
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// target is the type whose shape a JSON value fills: t without pointers;
// nil (no constraint on names) for interfaces and for types that decode
// themselves, such as time.Time and json.RawMessage.
func target(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface {
		return nil
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
		return nil
	}
	return t
}

// jsonFields are the JSON names of a struct's fields as encoding/json
// sees them (tags, embedded structs promoted, "-" left out), with their
// types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			if et := target(f.Type); et != nil && et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	for _, et := range embedded { // outer fields win over promoted ones
		for n, ft := range jsonFields(et) {
			if _, ok := out[n]; !ok {
				out[n] = ft
			}
		}
	}
	return out
}
