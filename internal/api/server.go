// Package api holds camcloud's resource handlers under /api/v1: accounts
// and sessions, organisations and members, cameras and grants, events and
// their stream, webhooks, legal holds, storage quotas and use, and the
// audit log, one file per resource. They register on an httpapi.Router
// beside the routes of packages live, playback and web, none of which this
// package imports. Handlers decode and validate the request, ask package
// authz where a rule needs only the principal, and call the services; they
// never touch a repository.
package api

import (
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/bookmarks"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/exports"
	"github.com/camcloud/camcloud/internal/holds"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/orgs"
	"github.com/camcloud/camcloud/internal/quota"
	"github.com/camcloud/camcloud/internal/shares"
	"github.com/camcloud/camcloud/internal/sites"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/webhooks"
)

// Deps is everything the handlers need.
type Deps struct {
	Accounts *account.Service
	Orgs     *orgs.Service
	Cameras  *cameras.Service
	Audit    *audit.Log
	Events   *events.Service
	Webhooks *webhooks.Service
	// Usage reads usage reports (GET /api/v1/orgs/{org}/usage).
	Usage *usage.Reporter
	// Exports runs evidence exports; Bookmarks keeps cameras' bookmarks.
	Exports   *exports.Service
	Bookmarks *bookmarks.Service
	// Holds keeps legal holds; Quota reads and sets storage quotas.
	Holds *holds.Service
	Quota *quota.Service
	// Shares makes, lists, revokes and opens share links.
	Shares *shares.Service
	// Sites keeps sites and their edge agents.
	Sites *sites.Service
	// EventHeartbeat and EventStreamMaxAge time the event stream: an idle
	// stream's comment (default 15 s), and how long before it is ended
	// for the client to reconnect (default 30 min).
	EventHeartbeat, EventStreamMaxAge time.Duration
	// PublicHost names this service in URLs handed out; empty: the request's host.
	PublicHost string
	// RTSPPort and RTMPPort are the ingest ports cameras push to.
	RTSPPort, RTMPPort string
	// ZoneIngest, when set, names the host:port a zone's cameras push to
	// over RTSP and RTMP (a load balancer in front of the zone's camera
	// servers); an empty answer falls back to PublicHost and the ports.
	ZoneIngest func(zone string) (rtsp, rtmp string)
	// SecureCookies marks cookies Secure always; they are also Secure when
	// the router says the request came over HTTPS (httpapi.Secure).
	SecureCookies bool
	// OpenAPI is the YAML OpenAPI document served as JSON at GET
	// /api/v1/openapi.json (camcloud.OpenAPI).
	OpenAPI []byte
}

// server is the handlers with their dependencies.
type server struct{ Deps }

// Register adds the /api/v1 resource routes to rt, and a JSON 404 for any
// other path under /api/.
func Register(rt *httpapi.Router, d Deps) {
	s := &server{Deps: d}
	rt.HandlePublic("POST /api/v1/auth/login", http.HandlerFunc(s.login))
	rt.Handle("POST /api/v1/auth/logout", s.logout)
	rt.Handle("GET /api/v1/me", s.me)
	rt.Handle("POST /api/v1/me/password", s.changePassword)
	rt.Handle("POST /api/v1/me/totp", s.beginTOTP)
	rt.Handle("POST /api/v1/me/totp/confirm", s.confirmTOTP)
	rt.Handle("POST /api/v1/me/totp/disable", s.disableTOTP)
	rt.Handle("POST /api/v1/me/totp/recovery-codes", s.recoveryCodes)
	rt.Handle("GET /api/v1/me/api-keys", s.listAPIKeys)
	rt.Handle("POST /api/v1/me/api-keys", s.createAPIKey)
	rt.Handle("DELETE /api/v1/me/api-keys/{key}", s.deleteAPIKey)
	rt.Handle("POST /api/v1/support/assume", s.assumeRole)
	rt.Handle("DELETE /api/v1/support/assume", s.endAssume)

	rt.Handle("POST /api/v1/orgs", s.createOrg)
	rt.Handle("GET /api/v1/orgs", s.listOrgs)
	rt.Handle("POST /api/v1/orgs/{org}/members", s.addMember)
	rt.Handle("GET /api/v1/orgs/{org}/members", s.listMembers)
	rt.Handle("GET /api/v1/orgs/{org}/members/{user}", s.getMember)
	rt.Handle("PATCH /api/v1/orgs/{org}/members/{user}", s.patchMember)
	rt.Handle("DELETE /api/v1/orgs/{org}/members/{user}", s.deleteMember)
	rt.Handle("GET /api/v1/orgs/{org}/invitations", s.listOrgInvitations)
	rt.Handle("DELETE /api/v1/orgs/{org}/invitations/{id}", s.revokeInvitation)
	rt.Handle("GET /api/v1/invitations", s.listInvitations)
	rt.Handle("POST /api/v1/invitations/{id}/accept", s.acceptInvitation)
	rt.Handle("POST /api/v1/invitations/{id}/decline", s.declineInvitation)

	rt.Handle("POST /api/v1/cameras", s.createCamera)
	rt.Handle("GET /api/v1/cameras", s.listCameras)
	rt.Handle("GET /api/v1/cameras/{id}", s.getCamera)
	rt.Handle("PATCH /api/v1/cameras/{id}", s.patchCamera)
	rt.Handle("DELETE /api/v1/cameras/{id}", s.deleteCamera)
	rt.Handle("POST /api/v1/cameras/{id}/rotate-key", s.rotateKey)
	rt.Handle("GET /api/v1/cameras/{id}/grants", s.listGrants)
	rt.Handle("PUT /api/v1/cameras/{id}/grants/{user}", s.putGrant)
	rt.Handle("DELETE /api/v1/cameras/{id}/grants/{user}", s.deleteGrant)

	rt.Handle("GET /api/v1/events", s.listEvents)
	rt.Handle("GET /api/v1/events/stream", s.streamEvents)
	rt.Handle("GET /api/v1/cameras/{id}/events", s.cameraEvents)
	rt.Handle("POST /api/v1/cameras/{id}/events", s.postEvent)

	s.registerWebhooks(rt)
	rt.Handle("GET /api/v1/orgs/{org}/usage", s.getUsage)
	s.registerExports(rt)
	s.registerBookmarks(rt)
	s.registerHolds(rt)
	s.registerStorage(rt)
	s.registerShares(rt)
	s.registerSites(rt)

	rt.Handle("GET /api/v1/audit", s.listAudit)
	s.registerOpenAPI(rt)
	rt.HandlePublic("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusNotFound, "not_found", "no route %s %s", r.Method, r.URL.Path))
	}))
}
