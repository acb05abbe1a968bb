package cameras

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/camcloud/camcloud/internal/names"
	"github.com/camcloud/camcloud/internal/store"
)

// Bounds of a camera's labels: how many, and how long a key and a value
// may be in characters (a value is also bounded in bytes by names).
const (
	MaxLabels          = 32
	MaxLabelKeyChars   = 63
	MaxLabelValueChars = 200
	// MaxLabelFilters bounds the label terms of one camera listing.
	MaxLabelFilters = 8
)

// ValidateLabelKey returns key trimmed, or a *ValidationError when it is
// empty, longer than MaxLabelKeyChars, or holds anything but letters,
// digits and - _ . / (so that "key=value" and "label:KEY" parse).
func ValidateLabelKey(key string) (string, error) {
	k := strings.TrimSpace(key)
	if k == "" || len([]rune(k)) > MaxLabelKeyChars {
		return "", invalid("label key %q must be 1 to %d characters", trunc(key), MaxLabelKeyChars)
	}
	for _, r := range k {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_./", r) {
			return "", invalid("label key %q may hold only letters, digits and - _ . / (U+%04X)", trunc(key), r)
		}
	}
	return k, nil
}

// ValidateLabelValue returns value trimmed, or a *ValidationError when it
// is empty, longer than MaxLabelValueChars characters or names.MaxBytes
// bytes, or holds control or bidirectional formatting characters.
func ValidateLabelValue(key, value string) (string, error) {
	v, err := names.Check(fmt.Sprintf("label %q value", key), value, MaxLabelValueChars)
	if err != nil {
		return "", &ValidationError{Msg: err.Error()}
	}
	return v, nil
}

// ValidateLabels returns a camera's labels with keys and values trimmed,
// or a *ValidationError for a bad key or value, two keys that are the same
// once trimmed, or more than MaxLabels labels. An empty map is no labels
// (nil).
func ValidateLabels(in map[string]string) (map[string]string, error) {
	if len(in) > MaxLabels {
		return nil, invalid("a camera has at most %d labels, not %d", MaxLabels, len(in))
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(in))
	for _, key := range slices.Sorted(maps.Keys(in)) {
		k, err := ValidateLabelKey(key)
		if err != nil {
			return nil, err
		}
		v, err := ValidateLabelValue(k, in[key])
		if err != nil {
			return nil, err
		}
		if _, dup := out[k]; dup {
			return nil, invalid("label key %q is given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// LabelTerm is one term of a label filter: the camera has label Key, with
// value Value unless AnyValue.
type LabelTerm struct {
	Key, Value string
	AnyValue   bool
}

// LabelFilter selects cameras that match every term; empty matches all.
type LabelFilter []LabelTerm

// ParseLabelFilter reads the `label` query parameters of a listing, each
// "key=value" or "key" (has the label), at most MaxLabelFilters.
func ParseLabelFilter(terms []string) (LabelFilter, error) {
	if len(terms) > MaxLabelFilters {
		return nil, invalid("at most %d label filters, not %d", MaxLabelFilters, len(terms))
	}
	var f LabelFilter
	for _, t := range terms {
		key, value, hasValue := strings.Cut(t, "=")
		k, err := ValidateLabelKey(key)
		if err != nil {
			return nil, err
		}
		term := LabelTerm{Key: k, AnyValue: !hasValue}
		if hasValue {
			if term.Value, err = ValidateLabelValue(k, value); err != nil {
				return nil, err
			}
		}
		f = append(f, term)
	}
	return f, nil
}

// Match reports whether labels satisfy every term of f.
func (f LabelFilter) Match(labels map[string]string) bool {
	for _, t := range f {
		v, ok := labels[t.Key]
		if !ok || (!t.AnyValue && v != t.Value) {
			return false
		}
	}
	return true
}

// Filter keeps the cameras of cams that match f.
func (f LabelFilter) Filter(cams []store.Camera) []store.Camera {
	if len(f) == 0 {
		return cams
	}
	out := cams[:0:0]
	for _, c := range cams {
		if f.Match(c.Labels) {
			out = append(out, c)
		}
	}
	return out
}

// labelsString is the audit form of a camera's labels: "k=v,k2=v2" in key
// order, "" for none.
func labelsString(l map[string]string) string {
	parts := make([]string, 0, len(l))
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ",")
}

// trunc shortens what a refusal quotes back.
func trunc(s string) string {
	if r := []rune(s); len(r) > 70 {
		return string(r[:70]) + "…"
	}
	return s
}
