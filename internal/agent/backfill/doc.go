// Package backfill is the edge agent's upload of what the cloud lacks
// after an uplink outage: it asks the cloud which parts of each camera's
// buffered range are missing, picks the local ring-buffer segments inside
// them (select.go), and uploads each one resumably and idempotently over
// the cloud's agent upload API (client.go, upload.go), oldest or newest
// first, under a bandwidth cap shared with the live relay (pacer.go, a
// token bucket of golang.org/x/time/rate) and an optional daily window
// (schedule.go). Upload ids and acknowledged offsets are kept in the
// agent's own SQLite file (state.go), so that an agent killed mid-upload
// continues from the last acknowledged byte. Segments that the ring
// buffer dropped before the cloud had them are reported to the cloud as
// lost (lost.go).
package backfill
