package rtsppub

import (
	"context"
	"fmt"
	"strconv"

	"github.com/bluenviron/gortsplib/v5/pkg/auth"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/conn"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/headers"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
)

// userAgent names the client in its requests.
const userAgent = "camcloud-relay"

// exchange is the state of the control exchange.
type exchange struct {
	rc      *conn.Conn
	cseq    int
	session string
	sender  *auth.Sender
	user    string
	pass    string
}

// handshake announces the tracks, sets each one up on its interleaved
// channels and starts recording.
func (s *Session) handshake(ctx context.Context, rc *conn.Conn, u *base.URL) error {
	x := &exchange{rc: rc}
	if u.User != nil {
		x.user = u.User.Username()
		x.pass, _ = u.User.Password()
	}
	u = u.CloneWithoutCredentials()
	desc := &description.Session{}
	for i, t := range s.tracks {
		m := *t.Media
		m.Control = "trackID=" + strconv.Itoa(i)
		desc.Medias = append(desc.Medias, &m)
	}
	sdp, err := desc.Marshal()
	if err != nil {
		return fmt.Errorf("rtsppub: describing the tracks: %w", err)
	}
	if _, err := x.do(ctx, &base.Request{
		Method: base.Announce, URL: u,
		Header: base.Header{"Content-Type": base.HeaderValue{"application/sdp"}},
		Body:   sdp,
	}); err != nil {
		return err
	}
	for i, m := range desc.Medias {
		mu, err := m.URL(u)
		if err != nil {
			return fmt.Errorf("rtsppub: track %d: %w", i, err)
		}
		ch := int(s.tracks[i].channel)
		th := headers.Transport{
			Protocol:       headers.TransportProtocolTCP,
			Delivery:       ptr(headers.TransportDeliveryUnicast),
			Mode:           ptr(headers.TransportModeRecord),
			InterleavedIDs: &[2]int{ch, ch + 1},
		}
		if _, err := x.do(ctx, &base.Request{Method: base.Setup, URL: mu, Header: base.Header{"Transport": th.Marshal()}}); err != nil {
			return err
		}
	}
	_, err = x.do(ctx, &base.Request{Method: base.Record, URL: u})
	return err
}

func ptr[T any](v T) *T { return &v }

// do sends req and reads its answer; an answer asking for credentials is
// retried once with the URL's, and any answer but 200 is an error.
func (x *exchange) do(ctx context.Context, req *base.Request) (*base.Response, error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, err := x.send(req)
		if err != nil {
			return nil, err
		}
		if res.StatusCode == base.StatusUnauthorized && attempt == 0 && x.sender == nil && x.user != "" {
			x.sender = &auth.Sender{WWWAuth: res.Header["WWW-Authenticate"], User: x.user, Pass: x.pass}
			if err := x.sender.Initialize(); err != nil {
				return nil, fmt.Errorf("rtsppub: %s: %w", req.Method, err)
			}
			continue
		}
		if res.StatusCode != base.StatusOK {
			return nil, fmt.Errorf("rtsppub: %s: %w", req.Method, liberrors.ErrClientBadStatusCode{Code: res.StatusCode, Message: res.StatusMessage})
		}
		if v, ok := res.Header["Session"]; ok {
			var sx headers.Session
			if err := sx.Unmarshal(v); err != nil {
				return nil, fmt.Errorf("rtsppub: %s: invalid Session header: %w", req.Method, err)
			}
			x.session = sx.Session
		}
		return res, nil
	}
}

// send writes one request (with CSeq, session and credentials) and reads
// the answer, skipping what else the server may send meanwhile.
func (x *exchange) send(req *base.Request) (*base.Response, error) {
	x.cseq++
	if req.Header == nil {
		req.Header = base.Header{}
	}
	req.Header["CSeq"] = base.HeaderValue{strconv.Itoa(x.cseq)}
	req.Header["User-Agent"] = base.HeaderValue{userAgent}
	if x.session != "" {
		req.Header["Session"] = base.HeaderValue{x.session}
	}
	if x.sender != nil {
		x.sender.AddAuthorization(req)
	}
	if err := x.rc.WriteRequest(req); err != nil {
		return nil, fmt.Errorf("rtsppub: %s: %w", req.Method, err)
	}
	for {
		m, err := x.rc.Read()
		if err != nil {
			return nil, fmt.Errorf("rtsppub: %s: no valid answer: %w", req.Method, err)
		}
		if res, ok := m.(*base.Response); ok {
			return res, nil
		}
	}
}
