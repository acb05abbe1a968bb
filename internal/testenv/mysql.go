package testenv

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// MySQLEnv names the variable holding a MariaDB/MySQL server DSN for
// tests, e.g. mysql://root@tcp(127.0.0.1:3306)/
const MySQLEnv = "CAMCLOUD_TEST_MYSQL_DSN"

// MySQLDSN returns a mysql:// DSN for a new database with a random name on
// the test server of MySQLEnv; the database is dropped when the test ends.
// Without the variable the test skips (fails in strict mode).
func MySQLDSN(t testing.TB) string {
	t.Helper()
	base := Env(t, MySQLEnv, "MariaDB/MySQL server")
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(base, "mysql://"))
	if err != nil {
		t.Fatalf("%s: %v", MySQLEnv, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	cfg.DBName = "camcloud_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		server := cfg.Clone()
		server.DBName = ""
		conn, err := mysql.NewConnector(server)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		db := sql.OpenDB(conn)
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS `" + cfg.DBName + "`"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return "mysql://" + cfg.FormatDSN()
}
