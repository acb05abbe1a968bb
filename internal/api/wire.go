package api

import (
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// The types below are the JSON answers of the API (docs/api.md). They are
// kept apart from the store's rows so that a column added to the directory
// never leaks into an answer, and an answer's shape never depends on how
// rows are stored.

type orgWire struct {
	ID                string    `json:"id"`
	Name              string    `json:"name"`
	CreatedAt         time.Time `json:"created_at"`
	StorageQuotaBytes int64     `json:"storage_quota_bytes"`
}

func orgJSON(o store.Org) orgWire {
	return orgWire{ID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt, StorageQuotaBytes: o.StorageQuotaBytes}
}

type userWire struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	TOTPEnabled   bool      `json:"totp_enabled"`
	PlatformAdmin bool      `json:"platform_admin"`
	CreatedAt     time.Time `json:"created_at"`
}

func userJSON(u store.User) userWire {
	return userWire{ID: u.ID, Email: u.Email, TOTPEnabled: u.TOTPEnabled, PlatformAdmin: u.PlatformAdmin, CreatedAt: u.CreatedAt}
}

type memberWire struct {
	OrgID  string `json:"org_id"`
	UserID string `json:"user_id"`
	Email  string `json:"email,omitempty"`
	Role   string `json:"role"`
}

func memberJSON(m store.Membership) memberWire {
	return memberWire{OrgID: m.OrgID, UserID: m.UserID, Email: m.Email, Role: m.Role}
}

type grantWire struct {
	CameraID    string   `json:"camera_id"`
	UserID      string   `json:"user_id"`
	Permissions []string `json:"permissions"`
}

func grantJSON(g store.Grant) grantWire {
	return grantWire{CameraID: g.CameraID, UserID: g.UserID, Permissions: g.Permissions}
}

type apiKeyWire struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	Scope     string     `json:"scope,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func apiKeyJSON(k store.APIKey) apiKeyWire {
	w := apiKeyWire{ID: k.ID, UserID: k.UserID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt, LastUsed: k.LastUsed, Scope: k.Scope}
	if !k.ExpiresAt.IsZero() {
		w.ExpiresAt = &k.ExpiresAt
	}
	return w
}

type auditWire struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Actor    string    `json:"actor"`
	ActorAs  string    `json:"actor_as,omitempty"`
	Address  string    `json:"address"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	OrgID    string    `json:"org_id,omitempty"`
	CameraID string    `json:"camera_id,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
	// TargetName and CameraName (additions) are the names the reader
	// knows the target and the camera by (a camera's or organisation's
	// name, a user's email), looked up when listed; absent when gone. They
	// are not part of the hashed entry.
	TargetName string `json:"target_name,omitempty"`
	CameraName string `json:"camera_name,omitempty"`
}

// auditJSON converts an entry, with names from names (audit.Log.Names).
func auditJSON(e store.AuditEntry, names map[string]string) auditWire {
	w := auditWire{Seq: e.Seq, Time: e.Time, Actor: e.Actor, ActorAs: e.ActorAs, Address: e.Address, Action: e.Action,
		Target: e.Target, OrgID: e.OrgID, CameraID: e.CameraID, Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash,
		TargetName: names[e.Target]}
	if e.CameraID != "" {
		w.CameraName = names["camera:"+e.CameraID]
	}
	return w
}

// statusWire is a camera's status. last_seen is left out until the camera
// has been seen, and an offline camera's bitrate is 0, not the last one
// measured.
type statusWire struct {
	Online      bool       `json:"online"`
	Codec       string     `json:"codec,omitempty"`
	BitrateKbps int        `json:"bitrate_kbps"`
	LastSeen    *time.Time `json:"last_seen,omitempty"`
	Server      string     `json:"server,omitempty"`
	// Recording and RecordingReason (additions) say, while online, whether
	// the camera is being recorded and if not why.
	Recording       string `json:"recording,omitempty"`
	RecordingReason string `json:"recording_reason,omitempty"`
	// UnrecordedTracks (addition) names, while online, the offered tracks
	// that are not recorded.
	UnrecordedTracks string `json:"unrecorded_tracks,omitempty"`
	// OfflineReason and OfflineSince (additions) say, while offline, why
	// (how the last connection ended, why the last pull failed) and since
	// when.
	OfflineReason string     `json:"offline_reason,omitempty"`
	OfflineSince  *time.Time `json:"offline_since,omitempty"`
}

func statusJSON(st store.CameraStatus) statusWire {
	w := statusWire{Online: st.Online, Codec: st.Codec, Server: st.Server}
	if st.Online {
		w.BitrateKbps = st.BitrateKbps
		w.Recording, w.RecordingReason, w.UnrecordedTracks = st.Recording, st.RecordingReason, st.Unrecorded
	}
	if !st.LastSeen.IsZero() {
		seen := st.LastSeen
		w.LastSeen = &seen
	}
	if !st.Online {
		w.OfflineReason = st.OfflineReason
		if !st.OfflineSince.IsZero() {
			since := st.OfflineSince
			w.OfflineSince = &since
		}
	}
	return w
}

// listJSON converts a list of rows to their answers; nil stays nil (null),
// an empty list stays empty ([]), as the answers always did.
func listJSON[T, W any](rows []T, conv func(T) W) []W {
	if rows == nil {
		return nil
	}
	out := make([]W, 0, len(rows))
	for _, r := range rows {
		out = append(out, conv(r))
	}
	return out
}
