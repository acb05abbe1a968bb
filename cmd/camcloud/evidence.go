package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/evidence"
	"github.com/camcloud/camcloud/internal/store"
)

const evidenceUsage = `usage: camcloud evidence public-key [--config FILE] [--data-dir DIR] [--directory DSN]
       camcloud evidence verify PACKAGE (--public-key FILE | --server URL)`

func evidenceCmd(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, evidenceUsage)
		return 2
	}
	switch args[0] {
	case "public-key":
		return publicKeyCmd(args[1:])
	case "verify":
		return verifyCmd(args[1:])
	}
	fmt.Fprintln(os.Stderr, evidenceUsage)
	return 2
}

// publicKeyCmd prints the deployment's evidence public key (PEM) from
// the directory DB; its key id goes to stderr.
func publicKeyCmd(args []string) int {
	cfg, err := config.Load("evidence public-key", args, os.LookupEnv)
	if err != nil {
		return flagError("camcloud evidence public-key", err)
	}
	ctx := context.Background()
	dir, err := store.OpenDirectory(ctx, cfg.Directory, newLogger("warn"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud evidence public-key: directory db:", err)
		return 1
	}
	defer func() { _ = dir.Close() }()
	pub, err := evidence.StoredPublicKey(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud evidence public-key:", err)
		return 1
	}
	fmt.Print(evidence.PublicPEM(pub))
	fmt.Fprintln(os.Stderr, "key id", evidence.KeyID(pub))
	return 0
}

// verifyCmd checks a package offline against a public key read from a
// file or fetched from a server.
func verifyCmd(args []string) int {
	fs := flag.NewFlagSet("camcloud evidence verify", flag.ContinueOnError)
	keyFile := fs.String("public-key", "", "file of the deployment's public key (PEM, as `camcloud evidence public-key` prints)")
	server := fs.String("server", "", "base URL of a camcloud api node to fetch the public key from (GET /api/v1/evidence/public-key)")
	var pkg string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pkg, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return flagError("camcloud evidence verify", err)
	}
	if pkg == "" && fs.NArg() == 1 {
		pkg = fs.Arg(0)
	} else if fs.NArg() > 0 {
		pkg = ""
	}
	if pkg == "" || (*keyFile == "") == (*server == "") {
		fmt.Fprintln(os.Stderr, "usage: camcloud evidence verify PACKAGE (--public-key FILE | --server URL)")
		return 2
	}
	pub, err := verifyKey(*keyFile, *server)
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud evidence verify: public key:", err)
		return 1
	}
	f, err := os.Open(pkg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud evidence verify:", err)
		return 1
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fmt.Fprintln(os.Stderr, "camcloud evidence verify:", err)
		return 1
	}
	m, err := evidence.Verify(f, st.Size(), pub)
	if err != nil {
		fmt.Fprintf(os.Stderr, "evidence package REJECTED: %v\n", err)
		return 1
	}
	fmt.Printf("evidence package OK: signed by key %s\n  camera %q (%s) of %q (%s)\n  range %s .. %s, frames %s .. %s\n"+
		"  exported by %s at %s, audit entry %d\n  %s: %d bytes, SHA-256 %s, watermarked %t\n  %d bookmarks\n",
		m.KeyID, m.Camera.Name, m.Camera.ID, m.Organisation.Name, m.Organisation.ID,
		m.From.Format(time.RFC3339Nano), m.To.Format(time.RFC3339Nano), m.FirstFrame.Format(time.RFC3339Nano), m.LastFrameEnd.Format(time.RFC3339Nano),
		m.Exporter.Email, m.CreatedAt.Format(time.RFC3339), m.AuditSeq, m.Video.Name, m.Video.Size, m.Video.SHA256, m.Video.Watermarked, len(m.Bookmarks))
	for _, b := range m.Bookmarks {
		fmt.Printf("    %s %q\n", b.Start.Format(time.RFC3339), b.Name)
	}
	return 0
}

// verifyKey reads the public key from file, or fetches it from server.
func verifyKey(file, server string) (ed25519.PublicKey, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		return evidence.ParsePublicKey(b)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(strings.TrimRight(server, "/") + "/api/v1/evidence/public-key")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", server, res.Status)
	}
	var body struct {
		PEM string `json:"pem"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&body); err != nil {
		return nil, fmt.Errorf("%s: %w", server, err)
	}
	if body.PEM == "" {
		return nil, errors.New(server + " answered no key")
	}
	return evidence.ParsePublicKey([]byte(body.PEM))
}
