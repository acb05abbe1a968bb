package app

import (
	"fmt"
	"net"

	"github.com/camcloud/camcloud/internal/config"
)

// printWelcome tells the operator, once every listener is bound, where the
// UI is and which account shows what: the platform admin manages the
// platform but is a member of no organisation, so it sees no camera.
func (a *App) printWelcome() {
	if a.Cfg.Role == config.RoleCameraServer {
		fmt.Fprintf(a.out, "camcloud: camera server %s of zone %s; media on http://%s\n", a.Cfg.ServerID, a.Cfg.Zone, a.HTTPAddr())
		return
	}
	fmt.Fprintf(a.out, "camcloud: the UI is at %s\n", uiURL(a.HTTPAddr()))
	if a.Cfg.Demo {
		fmt.Fprintf(a.out, "camcloud: log in as %s to see the demo cameras (the platform admin belongs to no organisation and sees none)\n", demoEmail)
	}
}

// uiURL is the URL a browser on this machine opens for a bound HTTP
// address: a wildcard address becomes localhost.
func uiURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
