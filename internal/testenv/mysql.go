package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQLEnv names the variable holding the DSN of the MariaDB/MySQL server
// tests may create databases on, e.g. mysql://root@tcp(127.0.0.1:3306)/.
const MySQLEnv = "CAMCLOUD_TEST_MYSQL_DSN"

// MySQLDatabases returns camcloud DSNs (mysql://...) of new, uniquely named
// databases on the server of MySQLEnv, one per name (camcloud creates them
// on first open), dropped when the test ends. Without MySQLEnv the test
// skips, or fails in strict mode.
func MySQLDatabases(t testing.TB, names ...string) []string {
	t.Helper()
	base := Env(t, MySQLEnv, "MariaDB/MySQL server")
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(base, "mysql://"))
	if err != nil {
		t.Fatalf("%s: %v", MySQLEnv, err)
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	run := hex.EncodeToString(r[:])
	var dsns, dbNames []string
	for _, n := range names {
		c := cfg.Clone()
		c.DBName = "camcloud_t_" + run + "_" + n
		dbNames = append(dbNames, c.DBName)
		dsns = append(dsns, "mysql://"+c.FormatDSN())
	}
	t.Cleanup(func() {
		server := cfg.Clone()
		server.DBName = ""
		conn, err := mysql.NewConnector(server)
		if err != nil {
			t.Errorf("drop test databases: %v", err)
			return
		}
		db := sql.OpenDB(conn)
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, n := range dbNames {
			if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+n+"`"); err != nil {
				t.Errorf("drop test database %s: %v", n, err)
			}
		}
	})
	return dsns
}

// MySQLDSN returns the DSN of one new database, as MySQLDatabases does.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	return MySQLDatabases(t, "db")[0]
}
