package store

// dirMigrationLabels is the directory migration of camera labels (issue
// 17): a camera's key=value labels (sites, cost centres), kept as one
// JSON object with sorted keys in a column of the camera's row, so that
// every read of a camera carries them and an edit writes them in the same
// row lock as the rest (ModifyCamera). Filtering and grouping by label is
// done on the cameras an organisation lists, which are bounded. It is
// appended to directoryMigrations as one entry, so that a merge with
// another branch's migration only has to renumber it.
var dirMigrationLabels = migration{version: 11, name: "camera labels",
	sql: map[string][]string{
		"sqlite": {"ALTER TABLE cameras ADD COLUMN labels TEXT NOT NULL DEFAULT ''"},
		"mysql":  {"ALTER TABLE cameras ADD COLUMN IF NOT EXISTS labels TEXT NOT NULL DEFAULT ''"},
	},
}
