package app

import (
	"context"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebug serves pprof profiles on cfg.DebugAddr, a private address
// separate from the public HTTP one, until ctx ends.
func (a *App) startDebug(ctx context.Context) error {
	if a.Cfg.DebugAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", a.Cfg.DebugAddr)
	if err != nil {
		return err
	}
	a.PullPolicy.AddSelf(ln.Addr().String())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	a.Log.Warn("pprof debug endpoint enabled", "addr", ln.Addr().String())
	return nil
}
