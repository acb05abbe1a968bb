package app

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// serverIDFile keeps a generated camera-server id in the data directory.
const serverIDFile = "server-id"

// serverID returns the configured camera-server id, or the one generated
// once into the data directory: the host name and a random suffix. Keeping
// it in the data directory means a restarted server comes back under the
// same name (it finds its own leases and spool), while two servers on one
// machine, which need two data directories anyway, never collide.
func serverID(configured, dataDir string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	p := filepath.Join(dataDir, serverIDFile)
	if b, err := os.ReadFile(p); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" && len(id) <= 64 {
			return id, nil
		}
	}
	host, _ := os.Hostname()
	host = sanitizeHost(host)
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	id := host + "-" + hex.EncodeToString(r[:])
	if err := os.WriteFile(p, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("server id: %w", err)
	}
	return id, nil
}

// sanitizeHost keeps a host name usable in an id: at most 48 characters of
// letters, digits, '.', '_' and '-'.
func sanitizeHost(h string) string {
	b := make([]byte, 0, len(h))
	for i := 0; i < len(h) && len(b) < 48; i++ {
		c := h[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "camera-server"
	}
	return string(b)
}
