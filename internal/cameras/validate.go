package cameras

import "github.com/camcloud/camcloud/internal/names"

// MaxNameChars bounds a camera name in characters; names.MaxBytes bounds
// it in bytes (what the directory's column holds).
const MaxNameChars = 100

// ValidateName returns a camera name trimmed, or a *ValidationError when
// it is empty, too long in characters or bytes, or holds control or
// bidirectional formatting characters.
func ValidateName(name string) (string, error) {
	n, err := names.Check("name", name, MaxNameChars)
	if err != nil {
		return "", &ValidationError{Msg: err.Error()}
	}
	return n, nil
}
