package store

import "strings"

// colType is an engine-neutral column type; each dialect maps it to DDL.
type colType int

const (
	tID     colType = iota // a caller-made id: up to maxID bytes, indexable
	tKey                   // short indexable text (names, emails, hashes): up to maxKey bytes
	tText                  // longer text, never indexed: up to maxText bytes
	tBlob                  // binary
	tBigInt                // 64-bit integer (times in microseconds, sizes)
	tInt                   // 32-bit integer
	tBool                  // boolean
)

// Bounds the repository checks before writing, so that both engines accept
// the same values and none silently truncates one.
const (
	maxID   = 64
	maxKey  = 320
	maxText = 65535
)

// column is one column of a table; columns are NOT NULL unless null is set.
type column struct {
	name string
	typ  colType
	null bool
}

// index is a secondary index of a table.
type index struct {
	name   string
	cols   []string
	unique bool
}

// foreignKey references another table's primary key.
type foreignKey struct {
	cols    []string
	ref     string // "table(col, ...)"
	cascade bool   // ON DELETE CASCADE
}

// table describes one table; createTable renders it per dialect.
type table struct {
	name    string
	cols    []column
	pk      []string
	indexes []index
	fks     []foreignKey
	// clustered asks SQLite to store rows in primary key order (WITHOUT
	// ROWID), as InnoDB always does, so range reads on the key are one seek.
	clustered bool
}

// createTable returns the idempotent statements that create t in dialect d.
func (d *dialect) createTable(t table) []string {
	var parts []string
	for _, c := range t.cols {
		s := c.name + " " + d.types[c.typ]
		if !c.null {
			s += " NOT NULL"
		}
		parts = append(parts, s)
	}
	parts = append(parts, "PRIMARY KEY ("+strings.Join(t.pk, ", ")+")")
	if d.inlineIndexes {
		for _, ix := range t.indexes {
			kw := "INDEX "
			if ix.unique {
				kw = "UNIQUE INDEX "
			}
			parts = append(parts, kw+ix.name+" ("+strings.Join(ix.cols, ", ")+")")
		}
	}
	for _, fk := range t.fks {
		s := "FOREIGN KEY (" + strings.Join(fk.cols, ", ") + ") REFERENCES " + fk.ref
		if fk.cascade {
			s += " ON DELETE CASCADE"
		}
		parts = append(parts, s)
	}
	suffix := d.tableSuffix
	if t.clustered {
		suffix += d.withoutRowID
	}
	stmts := []string{"CREATE TABLE IF NOT EXISTS " + t.name + " (\n  " + strings.Join(parts, ",\n  ") + "\n)" + suffix}
	if !d.inlineIndexes {
		for _, ix := range t.indexes {
			kw := "CREATE INDEX IF NOT EXISTS "
			if ix.unique {
				kw = "CREATE UNIQUE INDEX IF NOT EXISTS "
			}
			stmts = append(stmts, kw+ix.name+" ON "+t.name+" ("+strings.Join(ix.cols, ", ")+")")
		}
	}
	return stmts
}
