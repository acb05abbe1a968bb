// Package uitest drives camcloud's browser UI (package web) with Debian's
// Chromium through chromedp, against a real in-process `camcloud serve` and
// simulated cameras. It holds only tests; it lives apart from package web
// because it imports internal/app, which imports web.
package uitest
