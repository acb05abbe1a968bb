package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/httpapi"
)

// eventPage is the answer of the event listings.
type eventPage struct {
	Events     []events.JSON `json:"events"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// eventReq is a custom event as posted.
type eventReq struct {
	Type   string          `json:"type"`
	Time   *time.Time      `json:"time"`
	End    *time.Time      `json:"end"`
	Detail json.RawMessage `json:"detail"`
}

// failEvents answers the event service's refusals: bad input 400, too
// many streams 429, the rest as httpapi maps them.
func failEvents(w http.ResponseWriter, r *http.Request, err error) {
	var ie *events.InputError
	switch {
	case errors.As(err, &ie):
		httpapi.Fail(w, r, httpapi.BadRequest("%s", ie.Msg))
	case errors.Is(err, events.ErrTooManyStreams):
		w.Header().Set("Retry-After", "10")
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusTooManyRequests, "too_many_streams", "too many event streams open; close one"))
	default:
		httpapi.Fail(w, r, err)
	}
}

// types reads the repeatable, comma-separated type parameter.
func types(r *http.Request) []string {
	var out []string
	for _, v := range r.URL.Query()["type"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// eventFilter reads the query of GET /events: type, from, to, limit.
func eventFilter(r *http.Request) (events.Filter, error) {
	f := events.Filter{Types: types(r)}
	var err error
	if f.From, err = parseTime(r, "from"); err != nil {
		return f, err
	}
	if f.To, err = parseTime(r, "to"); err != nil {
		return f, err
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > events.MaxLimit {
			return f, httpapi.BadRequest("limit must be 1 to %d", events.MaxLimit)
		}
		f.Limit = n
	}
	return f, nil
}

// optionalID reads a query parameter that, when given, must be an id.
func optionalID(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if v != "" && !httpapi.IsID(v) {
		return "", httpapi.BadRequest("%s must be an id", name)
	}
	return v, nil
}

func (s *server) listEvents(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	f, err := eventFilter(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if f.CameraID, err = optionalID(r, "camera"); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if f.OrgID, err = optionalID(r, "org"); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.writeEvents(w, r, rq, f)
}

func (s *server) cameraEvents(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermView)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	f, err := eventFilter(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	f.CameraID = c.ID
	s.writeEvents(w, r, rq, f)
}

// writeEvents answers a page of the events the caller may see.
func (s *server) writeEvents(w http.ResponseWriter, r *http.Request, rq *httpapi.Request, f events.Filter) {
	page, err := s.Events.List(r.Context(), rq.P, f, r.URL.Query().Get("cursor"))
	if err != nil {
		failEvents(w, r, err)
		return
	}
	out := eventPage{Events: make([]events.JSON, 0, len(page.Events)), NextCursor: page.Next}
	for _, e := range page.Events {
		out.Events = append(out.Events, e.Wire())
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *server) postEvent(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	c, err := s.camera(r, rq, authz.PermView)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var req eventReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	in := events.Custom{Type: req.Type, Detail: req.Detail, Source: "user:" + rq.User.ID}
	if rq.APIKey != nil {
		in.Source = "api_key:" + rq.APIKey.ID
	}
	if req.Time != nil {
		in.Start = *req.Time
	}
	if req.End != nil {
		in.End = *req.End
	}
	e, err := s.Events.Post(r.Context(), rq.P, c, in)
	if err != nil {
		failEvents(w, r, err)
		return
	}
	httpapi.Record(r, rq, "event.post", "event:"+e.ID, c.OrgID, c.ID, e.Type)
	httpapi.WriteJSON(w, http.StatusCreated, e.Wire())
}
