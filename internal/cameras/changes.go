package cameras

import (
	"fmt"
	"strings"

	"github.com/camcloud/camcloud/internal/store"
)

// Change is one field of a camera that an update changed, with its old and
// new value as the API shows them (a pull URL with its credentials hidden).
type Change struct {
	Field    string
	Old, New any
}

// Changes is what an update changed, in field order.
type Changes []Change

// String is the audit detail of an update: `recording: "continuous" ->
// "off"; retention_days: 30 -> 1`, or "" when nothing changed. It never
// holds a secret: the ingest secret is not a field here, and pull URLs are
// redacted.
func (cs Changes) String() string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s: %s -> %s", c.Field, show(c.Old), show(c.New)))
	}
	return strings.Join(parts, "; ")
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// diff lists the fields a caller may set that differ between a and b.
func diff(a, b store.Camera) Changes {
	var cs Changes
	add := func(field string, old, new any) {
		if old != new {
			cs = append(cs, Change{Field: field, Old: old, New: new})
		}
	}
	add("name", a.Name, b.Name)
	add("source.type", a.SourceType, b.SourceType)
	if a.SourceURL != b.SourceURL { // also when only its hidden credentials changed
		cs = append(cs, Change{Field: "source.url", Old: RedactURL(a.SourceURL), New: RedactURL(b.SourceURL)})
	}
	add("retention_days", a.RetentionDays, b.RetentionDays)
	add("recording", a.Recording, b.Recording)
	add("site_id", a.SiteID, b.SiteID)
	ae, as := MotionOf(a)
	be, bs := MotionOf(b)
	add("motion.enabled", ae, be)
	add("motion.sensitivity", as, bs)
	add("labels", labelsString(a.Labels), labelsString(b.Labels))
	return cs
}
