package dataexport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/camcloud/camcloud/internal/store"
)

// rowGroupRows is how many rows one Parquet row group holds: the writer
// buffers one row group, so this bounds its memory whatever the table.
const rowGroupRows = 64 * 1024

// Column is one column of an exported file, as the manifest describes it.
type Column struct {
	Name      string    `json:"name"`
	Type      string    `json:"type"` // int64, string or binary
	Nullable  bool      `json:"nullable"`
	Tags      []string  `json:"tags"`
	Treatment Treatment `json:"treatment"`
}

// outCol is a column of the file with where its values come from.
type outCol struct {
	Column
	src   int    // index in the scanned row
	index int    // leaf column index in the Parquet schema
	def   int    // definition level of a present value
	buf   []byte // the row's pseudonym (each column its own: a row's values are written together)
}

// fileWriter writes one audience's Parquet file of one table to a local
// temporary file, hashing it as it goes.
type fileWriter struct {
	f      *os.File
	hash   hash.Hash
	count  *countWriter
	w      *parquet.GenericWriter[any]
	cols   []outCol
	row    parquet.Row
	rows   int64
	pseudo *pseudonymiser
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newFileWriter starts a file in dir with the columns cols (src set).
func newFileWriter(dir, table string, cols []outCol, pseudo *pseudonymiser) (*fileWriter, error) {
	g := parquet.Group{}
	for _, c := range cols {
		var n parquet.Node
		switch c.Type {
		case "int64":
			n = parquet.Int(64)
		case "string":
			n = parquet.String()
		default:
			n = parquet.Leaf(parquet.ByteArrayType)
		}
		if c.Nullable {
			n = parquet.Optional(n)
		}
		g[c.Name] = n
	}
	schema := parquet.NewSchema(table, g)
	for i := range cols {
		leaf, ok := schema.Lookup(cols[i].Name)
		if !ok {
			return nil, fmt.Errorf("dataexport: column %s missing from its schema", cols[i].Name)
		}
		cols[i].index, cols[i].def = leaf.ColumnIndex, leaf.MaxDefinitionLevel
		if cols[i].Treatment == Pseudo {
			cols[i].buf = make([]byte, pseudonymLen)
		}
	}
	f, err := os.CreateTemp(dir, table+"-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("dataexport: temporary file: %w", err)
	}
	fw := &fileWriter{f: f, hash: sha256.New(), cols: cols, row: make(parquet.Row, len(cols)), pseudo: pseudo}
	fw.count = &countWriter{w: io.MultiWriter(f, fw.hash)}
	fw.w = parquet.NewGenericWriter[any](fw.count, schema, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(rowGroupRows),
		parquet.CreatedBy("camcloud", "", ""))
	return fw, nil
}

// write adds one scanned row.
func (fw *fileWriter) write(src []any) error {
	for i := range fw.cols {
		c := &fw.cols[i]
		v := src[c.src]
		var pv parquet.Value
		switch x := v.(type) {
		case nil:
			pv = parquet.NullValue().Level(0, 0, c.index)
			fw.row[c.index] = pv
			continue
		case int64:
			if c.Treatment == Pseudo {
				pv = parquet.ByteArrayValue(fw.pseudo.of(x, c.buf))
			} else {
				pv = parquet.Int64Value(x)
			}
		case []byte:
			if c.Treatment == Pseudo {
				x = fw.pseudo.of(x, c.buf)
			}
			pv = parquet.ByteArrayValue(x)
		}
		fw.row[c.index] = pv.Level(0, c.def, c.index)
	}
	if _, err := fw.w.WriteRows([]parquet.Row{fw.row}); err != nil {
		return fmt.Errorf("dataexport: write row: %w", err)
	}
	fw.rows++
	return nil
}

// finish closes the Parquet file; it returns the local path, size and
// SHA-256.
func (fw *fileWriter) finish() (path string, size int64, sum string, err error) {
	if err := fw.w.Close(); err != nil {
		fw.abort()
		return "", 0, "", fmt.Errorf("dataexport: close parquet: %w", err)
	}
	if err := fw.f.Sync(); err != nil {
		fw.abort()
		return "", 0, "", fmt.Errorf("dataexport: sync: %w", err)
	}
	if err := fw.f.Close(); err != nil {
		_ = os.Remove(fw.f.Name())
		return "", 0, "", fmt.Errorf("dataexport: close: %w", err)
	}
	return fw.f.Name(), fw.count.n, hex.EncodeToString(fw.hash.Sum(nil)), nil
}

// abort drops the temporary file.
func (fw *fileWriter) abort() {
	_ = fw.f.Close()
	_ = os.Remove(fw.f.Name())
}

// typeName is the manifest's name of a kind of column, pseudonymised or not.
func typeName(k store.ColumnKind, t Treatment) string {
	switch {
	case t == Pseudo, k == store.KindText:
		return "string"
	case k == store.KindInt:
		return "int64"
	}
	return "binary"
}
