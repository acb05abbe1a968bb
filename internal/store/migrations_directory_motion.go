package store

// dirMigrationMotion is the directory migration of per-camera motion
// detection (issue 15): whether it is off and its sensitivity (0: the
// default). Existing cameras get detection on at the default sensitivity.
// It is appended to directoryMigrations as one entry, so that a merge with
// another branch's migration only has to renumber it.
var dirMigrationMotion = migration{version: 6, name: "motion detection per camera: off flag and sensitivity",
	sql: map[string][]string{
		"sqlite": {
			"ALTER TABLE cameras ADD COLUMN motion_off INTEGER NOT NULL DEFAULT 0",
			"ALTER TABLE cameras ADD COLUMN motion_sensitivity INTEGER NOT NULL DEFAULT 0",
		},
		"mysql": {
			"ALTER TABLE cameras ADD COLUMN IF NOT EXISTS motion_off BOOLEAN NOT NULL DEFAULT FALSE",
			"ALTER TABLE cameras ADD COLUMN IF NOT EXISTS motion_sensitivity INT NOT NULL DEFAULT 0",
		},
	},
}
