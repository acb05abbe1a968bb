package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/camcloud/camcloud/internal/auth"
)

// BenchmarkLogin measures a full HTTP login (argon2id verify, session
// insert, audit entry), with the rate limits lifted.
func BenchmarkLogin(b *testing.B) {
	e := start(b)
	e.app.Accounts.SetLimits(auth.NewLimiter(1e9, 1e9, 10), auth.NewLimiter(1e9, 1e9, 10))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW}); r.Status != 200 {
			b.Fatalf("login: %d %s", r.Status, r.Raw)
		}
	}
}

// BenchmarkListCameras measures GET /api/v1/cameras for a viewer of an
// organisation with 100 cameras (authentication, memberships and grants,
// the directory query, status from the zone DB, authorisation per camera).
func BenchmarkListCameras(b *testing.B) {
	e := start(b)
	w := e.world()
	for i := 0; i < 98; i++ {
		e.must(e.do("POST", "/api/v1/cameras", w.tok["admin"], map[string]any{"org_id": w.orgA, "name": fmt.Sprint("cam ", i)}), http.StatusCreated)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := e.do("GET", "/api/v1/cameras", w.tok["viewer"], nil)
		if cams, _ := r.Body["cameras"].([]any); r.Status != 200 || len(cams) != 99 {
			b.Fatalf("list: %d, %d cameras", r.Status, len(cams))
		}
	}
}
