package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
)

// demoEmail is the demo user that --demo creates.
const demoEmail = "demo@camcloud.local"

// DemoCamera is a camera seeded by --demo with the secret its simulated
// stream pushes with.
type DemoCamera struct {
	Camera store.Camera
	Secret string
}

// SeedDemo creates, once, a demo organisation, a demo user and a few push
// cameras, and prints the demo login. The cameras' secrets are rotated on
// every start so the in-process simulator can push to them.
func (a *App) SeedDemo(ctx context.Context) error {
	cams, pw, err := a.seedDemo(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	a.demo = cams
	if pw != "" {
		fmt.Fprintf(a.out, "camcloud demo: log in as %s with password %s\n", demoEmail, pw)
	} else {
		fmt.Fprintf(a.out, "camcloud demo: log in as %s (password printed at first start)\n", demoEmail)
	}
	return nil
}

func (a *App) seedDemo(ctx context.Context) ([]DemoCamera, string, error) {
	var pw string
	u, err := a.Dir.GetUserByEmail(ctx, demoEmail)
	if errors.Is(err, store.ErrNotFound) {
		pw = account.NewID()[:16]
		if u, err = a.Accounts.CreateUser(ctx, demoEmail, pw, false); err != nil {
			return nil, "", err
		}
	} else if err != nil {
		return nil, "", err
	}
	ms, err := a.Dir.ListMemberships(ctx, u.ID)
	if err != nil {
		return nil, "", err
	}
	var orgID string
	for _, m := range ms {
		orgID = m.OrgID
	}
	if orgID == "" {
		o := store.Org{ID: account.NewID(), Name: "Demo", CreatedAt: time.Now().UTC()}
		if err := a.Dir.CreateOrg(ctx, o); err != nil {
			return nil, "", err
		}
		if err := a.Dir.PutMembership(ctx, store.Membership{OrgID: o.ID, UserID: u.ID, Role: store.RoleOwner}); err != nil {
			return nil, "", err
		}
		orgID = o.ID
	}
	existing, err := a.Dir.ListCameras(ctx, []string{orgID})
	if err != nil {
		return nil, "", err
	}
	var out []DemoCamera
	for _, c := range existing {
		if c.SourceType != "push" {
			continue
		}
		c, secret, err := a.Cameras.RotateKey(ctx, c)
		if err != nil {
			return nil, "", err
		}
		out = append(out, DemoCamera{Camera: c, Secret: secret})
	}
	for i := len(out); i < 3; i++ {
		name := fmt.Sprintf("Demo camera %d", i+1)
		days := 3
		c, secret, err := a.Cameras.Create(ctx, orgID, cameras.Spec{Name: &name, RetentionDays: &days})
		if err != nil {
			return nil, "", err
		}
		out = append(out, DemoCamera{Camera: c, Secret: secret})
	}
	return out, pw, nil
}
