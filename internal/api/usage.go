package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
)

// usageRowWire is one group of a usage report.
type usageRowWire struct {
	Key             string     `json:"key"`
	Name            string     `json:"name,omitempty"`
	StoredBytes     int64      `json:"stored_bytes"`
	StoredGBDays    float64    `json:"stored_gb_days"`
	RecordedSeconds float64    `json:"recorded_seconds"`
	IngestBytes     int64      `json:"ingest_bytes"`
	EgressBytes     int64      `json:"egress_bytes"`
	Egress          egressWire `json:"egress"`
	Exports         int64      `json:"exports"`
	Events          int64      `json:"events"`
	Webhooks        int64      `json:"webhook_deliveries"`
}

// egressWire is egress bytes by kind.
type egressWire struct {
	WebRTC  int64 `json:"webrtc"`
	LiveHLS int64 `json:"live_hls"`
	VOD     int64 `json:"vod"`
	Clip    int64 `json:"clip"`
	Image   int64 `json:"image"`
	Share   int64 `json:"share"`
}

func usageRowJSON(r usage.Row) usageRowWire {
	c := r.Counts
	e := egressWire{WebRTC: c[store.UsageEgressWebRTC], LiveHLS: c[store.UsageEgressLiveHLS], VOD: c[store.UsageEgressVOD],
		Clip: c[store.UsageEgressClip], Image: c[store.UsageEgressImage], Share: c[store.UsageEgressShare]}
	return usageRowWire{Key: r.Key, Name: r.CameraName, StoredBytes: r.StoredBytes, StoredGBDays: float64(r.StoredByteDays) / 1e9,
		RecordedSeconds: float64(c[store.UsageRecordedMs]) / 1000, IngestBytes: c[store.UsageIngestBytes],
		EgressBytes: e.WebRTC + e.LiveHLS + e.VOD + e.Clip + e.Image + e.Share, Egress: e,
		Exports: c[store.UsageExports], Events: c[store.UsageEvents], Webhooks: c[store.UsageWebhookDeliveries]}
}

// usageCSVHeader names the columns of a CSV report.
var usageCSVHeader = []string{"key", "name", "stored_bytes", "stored_gb_days", "recorded_seconds", "ingest_bytes", "egress_bytes",
	"egress_webrtc", "egress_live_hls", "egress_vod", "egress_clip", "egress_image", "egress_share", "exports", "events", "webhook_deliveries"}

func (w usageRowWire) csv() []string {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	return []string{w.Key, w.Name, i(w.StoredBytes), f(w.StoredGBDays), f(w.RecordedSeconds), i(w.IngestBytes), i(w.EgressBytes),
		i(w.Egress.WebRTC), i(w.Egress.LiveHLS), i(w.Egress.VOD), i(w.Egress.Clip), i(w.Egress.Image), i(w.Egress.Share),
		i(w.Exports), i(w.Events), i(w.Webhooks)}
}

// wantsCSV reports whether the caller asked for CSV: ?format=csv, or an
// Accept of text/csv without ?format=json.
func wantsCSV(r *http.Request) (bool, error) {
	switch r.URL.Query().Get("format") {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		return strings.Contains(r.Header.Get("Accept"), "text/csv"), nil
	}
	return false, httpapi.BadRequest("format must be json or csv")
}

func (s *server) getUsage(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	org, err := httpapi.PathID(r, "org")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	asCSV, err := wantsCSV(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	qv := r.URL.Query()
	q, err := usage.ParseQuery(org, qv.Get("from"), qv.Get("to"), qv.Get("group_by"), time.Now())
	if usage.IsQueryError(err) {
		httpapi.Fail(w, r, httpapi.BadRequest("%s", err.Error()))
		return
	}
	rep, err := s.Usage.Report(r.Context(), rq.P, q)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	rows := listJSON(rep.Rows, usageRowJSON)
	if rows == nil {
		rows = []usageRowWire{}
	}
	if asCSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="usage-`+org+`-`+q.From.Format(time.DateOnly)+`-`+q.To.Format(time.DateOnly)+`.csv"`)
		cw := csv.NewWriter(w)
		_ = cw.Write(usageCSVHeader)
		for _, row := range rows {
			_ = cw.Write(row.csv())
		}
		cw.Flush()
		return
	}
	groupBy := q.GroupBy
	if q.GroupBy == usage.ByLabel {
		groupBy += ":" + q.LabelKey
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"org_id": org, "from": q.From.Format(time.DateOnly), "to": q.To.Format(time.DateOnly), "group_by": groupBy,
		"rows": rows, "total": usageRowJSON(rep.Total),
	})
}
