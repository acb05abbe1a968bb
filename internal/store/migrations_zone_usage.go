package store

// zoneMigrationUsage is the zone migration of usage metering (issue 17):
// usage_daily, what each camera of each organisation used per UTC day
// (counters that every node's flush adds to, and the bytes stored at the
// day's last flush), and usage_storage, the running total of each
// camera's stored segment bytes that flushes add uploads to and subtract
// deletions from. The totals start from the index as it is when the
// migration runs (one scan of the segments), with no organisation until
// a node that meters the camera names it. It is appended to
// zoneMigrations as one entry, so that a merge with another branch's
// migration only has to renumber it.
var zoneMigrationUsage = migration{version: 6, name: "usage metering: per organisation, camera and day; stored bytes per camera",
	tables: []table{
		{
			// Clustered on (org, day, camera) so that an organisation's
			// report over a range of days is one range scan.
			name: "usage_daily",
			cols: append([]column{
				{name: "org_id", typ: tID},
				{name: "day_us", typ: tBigInt}, // midnight UTC
				{name: "camera_id", typ: tID},
				{name: "stored_bytes", typ: tBigInt},
			}, usageCounterCols()...),
			pk:        []string{"org_id", "day_us", "camera_id"},
			clustered: true,
		},
		{
			name: "usage_storage",
			cols: []column{
				{name: "camera_id", typ: tID},
				{name: "org_id", typ: tID},
				{name: "bytes", typ: tBigInt},
			},
			pk: []string{"camera_id"},
		},
	},
	sql: map[string][]string{
		"sqlite": {usageStorageFromSegments},
		"mysql":  {usageStorageFromSegments},
	},
}

// usageStorageFromSegments starts the stored totals from the index.
const usageStorageFromSegments = `INSERT INTO usage_storage (camera_id, org_id, bytes)
  SELECT camera_id, '', SUM(size) FROM segments GROUP BY camera_id`

// usageCounterCols are usage_daily's additive columns.
func usageCounterCols() []column {
	cols := make([]column, 0, NumUsageCounters)
	for _, n := range UsageCounterColumns {
		cols = append(cols, column{name: n, typ: tBigInt})
	}
	return cols
}
