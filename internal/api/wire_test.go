package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// TestWireFormat: every answer type encodes, byte for byte, as the store
// rows did when they carried the JSON tags (the literals are what those
// tags produced): same names, same omitempty, secrets never present.
func TestWireFormat(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123000, time.UTC)
	cases := []struct {
		v    any
		want string
	}{
		{orgJSON(store.Org{}), `{"id":"","name":"","created_at":"0001-01-01T00:00:00Z","storage_quota_bytes":0}`},
		{orgJSON(store.Org{ID: "o", Name: "n", CreatedAt: at, StorageQuotaBytes: 5e9}), `{"id":"o","name":"n","created_at":"2026-03-01T12:00:00.000123Z","storage_quota_bytes":5000000000}`},
		{userJSON(store.User{}), `{"id":"","email":"","totp_enabled":false,"platform_admin":false,"created_at":"0001-01-01T00:00:00Z"}`},
		{userJSON(store.User{ID: "u", Email: "e", PasswordHash: "h", TOTPSecret: "s", TOTPEnabled: true, PlatformAdmin: true, CreatedAt: at}),
			`{"id":"u","email":"e","totp_enabled":true,"platform_admin":true,"created_at":"2026-03-01T12:00:00.000123Z"}`},
		{memberJSON(store.Membership{}), `{"org_id":"","user_id":"","role":""}`},
		{memberJSON(store.Membership{OrgID: "o", UserID: "u", Email: "e", Role: "owner"}), `{"org_id":"o","user_id":"u","email":"e","role":"owner"}`},
		{grantJSON(store.Grant{}), `{"camera_id":"","user_id":"","permissions":null}`},
		{grantJSON(store.Grant{CameraID: "c", UserID: "u", Permissions: []string{"live"}}), `{"camera_id":"c","user_id":"u","permissions":["live"]}`},
		{apiKeyJSON(store.APIKey{}), `{"id":"","user_id":"","name":"","prefix":"","created_at":"0001-01-01T00:00:00Z"}`},
		{apiKeyJSON(store.APIKey{ID: "k", UserID: "u", Name: "n", Prefix: "p", Hash: "h", CreatedAt: at, LastUsed: &at}),
			`{"id":"k","user_id":"u","name":"n","prefix":"p","created_at":"2026-03-01T12:00:00.000123Z","last_used":"2026-03-01T12:00:00.000123Z"}`},
		{apiKeyJSON(store.APIKey{ID: "k", Scope: "read", CreatedAt: at, ExpiresAt: at}),
			`{"id":"k","user_id":"","name":"","prefix":"","created_at":"2026-03-01T12:00:00.000123Z","scope":"read","expires_at":"2026-03-01T12:00:00.000123Z"}`},
		{invitationJSON(store.Invitation{ID: "i", OrgID: "o", Email: "e", Role: "viewer", InvitedBy: "secret", CreatedAt: at, ExpiresAt: at}),
			`{"id":"i","org_id":"o","email":"e","role":"viewer","created_at":"2026-03-01T12:00:00.000123Z","expires_at":"2026-03-01T12:00:00.000123Z"}`},
		{auditJSON(store.AuditEntry{}, nil), `{"seq":0,"time":"0001-01-01T00:00:00Z","actor":"","address":"","action":"","target":"","prev_hash":"","hash":""}`},
		{auditJSON(store.AuditEntry{Seq: 1, Time: at, Actor: "a", ActorAs: "x", Address: "ad", Action: "ac", Target: "t", OrgID: "o", CameraID: "c", Detail: "d", PrevHash: "p", Hash: "h"}, nil),
			`{"seq":1,"time":"2026-03-01T12:00:00.000123Z","actor":"a","actor_as":"x","address":"ad","action":"ac","target":"t","org_id":"o","camera_id":"c","detail":"d","prev_hash":"p","hash":"h"}`},
		// Never seen: no last_seen (it used to say 0001-01-01T00:00:00Z).
		{statusJSON(store.CameraStatus{}), `{"online":false,"bitrate_kbps":0}`},
		// Online, not recorded, with a track left out.
		{statusJSON(store.CameraStatus{CameraID: "c", Online: true, Codec: "H264", BitrateKbps: 5, LastSeen: at, Server: "s",
			Recording: "waiting", RecordingReason: "no key frame", Unrecorded: "G722"}),
			`{"online":true,"codec":"H264","bitrate_kbps":5,"last_seen":"2026-03-01T12:00:00.000123Z","server":"s","recording":"waiting","recording_reason":"no key frame","unrecorded_tracks":"G722"}`},
		// Offline: the last bitrate measured is not shown as current.
		{statusJSON(store.CameraStatus{CameraID: "c", Online: false, Codec: "avc1", BitrateKbps: 5, LastSeen: at, Server: "s"}),
			`{"online":false,"codec":"avc1","bitrate_kbps":0,"last_seen":"2026-03-01T12:00:00.000123Z","server":"s"}`},
		{statusJSON(store.CameraStatus{CameraID: "c", Online: true, Codec: "avc1", BitrateKbps: 5, LastSeen: at, Server: "s"}),
			`{"online":true,"codec":"avc1","bitrate_kbps":5,"last_seen":"2026-03-01T12:00:00.000123Z","server":"s"}`},
		{listJSON([]store.Org(nil), orgJSON), `null`},
		{listJSON([]store.Org{}, orgJSON), `[]`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("%T:\n got %s (%v)\nwant %s", c.v, b, err, c.want)
		}
	}
}
