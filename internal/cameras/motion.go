package cameras

import "github.com/camcloud/camcloud/internal/store"

// Bounds and default of a camera's motion sensitivity; internal/motion
// maps them onto its detector's threshold (its constants of the same
// names hold the same values, which internal/app's test checks).
const (
	MinMotionSensitivity     = 1
	MaxMotionSensitivity     = 10
	DefaultMotionSensitivity = 5
)

// Motion is a camera's motion detection setting as the API shows and
// takes it; nil fields of a request are left unchanged.
type Motion struct {
	Enabled     *bool `json:"enabled"`
	Sensitivity *int  `json:"sensitivity"`
}

// MotionOf is camera c's motion setting, with the default sensitivity
// filled in.
func MotionOf(c store.Camera) (enabled bool, sensitivity int) {
	sensitivity = c.MotionSensitivity
	if sensitivity == 0 {
		sensitivity = DefaultMotionSensitivity
	}
	return !c.MotionOff, sensitivity
}

// applyMotion sets the fields of m on c.
func applyMotion(c *store.Camera, m *Motion) error {
	if m == nil {
		return nil
	}
	if m.Sensitivity != nil {
		s := *m.Sensitivity
		if s < MinMotionSensitivity || s > MaxMotionSensitivity {
			return invalid("motion.sensitivity must be between %d and %d", MinMotionSensitivity, MaxMotionSensitivity)
		}
		c.MotionSensitivity = s
	}
	if m.Enabled != nil {
		c.MotionOff = !*m.Enabled
	}
	return nil
}
