package store

// zoneMigrationOffline is the zone migration of why a camera is offline
// (issue 19): the reason the last connection ended or the last pull
// failed (connection refused, 401, a timeout) and since when the camera
// has been offline, so that the API and the UI can say both. It is
// appended to zoneMigrations as one entry, so that a merge with another
// branch's migration only has to renumber it.
var zoneMigrationOffline = migration{version: 9, name: "camera status: offline reason and since", sql: map[string][]string{
	"sqlite": {
		"ALTER TABLE camera_status ADD COLUMN offline_reason TEXT NOT NULL DEFAULT ''",
		"ALTER TABLE camera_status ADD COLUMN offline_since_us INTEGER NOT NULL DEFAULT 0",
	},
	"mysql": {
		"ALTER TABLE camera_status ADD COLUMN IF NOT EXISTS offline_reason VARCHAR(320) NOT NULL DEFAULT ''",
		"ALTER TABLE camera_status ADD COLUMN IF NOT EXISTS offline_since_us BIGINT NOT NULL DEFAULT 0",
	},
}}
