package api_test

import (
	"sync"
	"testing"
)

// TestOwnersDemoteEachOther: the two owners of an organisation demote each
// other at the same moment, round after round, through the API; one of the
// two always wins and the organisation always keeps an owner. HTTP adds
// enough jitter that the requests rarely overlap inside the service: the
// race itself is proven in the store (TestOwnerRuleConcurrent); this checks
// the whole chain answers as it should.
func TestOwnersDemoteEachOther(t *testing.T) {
	e := start(t)
	admin := e.login(adminEmail, adminPW)
	org := e.must(e.do("POST", "/api/v1/orgs", admin, map[string]string{"name": "duel"}), 201).str("id")
	ids, toks := map[string]string{}, map[string]string{}
	for _, who := range []string{"a", "b"} {
		email := who + "@duel.example"
		ids[who] = e.must(e.do("POST", "/api/v1/orgs/"+org+"/members", admin, map[string]string{"email": email, "password": "password-" + who, "role": "owner"}), 201).str("user_id")
		toks[who] = e.login(email, "password-"+who)
	}
	me := e.must(e.do("GET", "/api/v1/me", admin, nil), 200)
	adminID, _ := me.Body["user"].(map[string]any)["id"].(string)
	e.must(e.do("DELETE", "/api/v1/orgs/"+org+"/members/"+adminID, admin, nil), 204)
	other := map[string]string{"a": "b", "b": "a"}
	for round := range 20 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		status := map[string]int{}
		var mu sync.Mutex
		for _, who := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := e.do("PATCH", "/api/v1/orgs/"+org+"/members/"+ids[other[who]], toks[who], map[string]string{"role": "admin"})
				mu.Lock()
				status[who] = r.Status
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		ms := e.must(e.do("GET", "/api/v1/orgs/"+org+"/members", toks["a"], nil), 200).Body["members"].([]any)
		var owners []string
		for _, m := range ms {
			if m.(map[string]any)["role"] == "owner" {
				owners = append(owners, m.(map[string]any)["user_id"].(string))
			}
		}
		if len(owners) != 1 || status["a"] == status["b"] || status["a"] != 200 && status["b"] != 200 {
			t.Fatalf("round %d: answers %v, owners left %v", round, status, owners)
		}
		winner := "a"
		if owners[0] == ids["b"] {
			winner = "b"
		}
		e.must(e.do("PATCH", "/api/v1/orgs/"+org+"/members/"+ids[other[winner]], toks[winner], map[string]string{"role": "owner"}), 200)
	}
}
