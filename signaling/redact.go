package signaling

import (
	"regexp"
)

// secretInURL matches what a URL may carry that logs and errors must not
// show: a token query parameter's value and a userinfo password.
var secretInURL = regexp.MustCompile(`([?&]token=)[^&#\s"']*|(://[^/@:\s"']*:)[^/@\s"']*@`)

// Redact returns s, a URL or a text holding URLs (an error message), with
// every token query parameter's value and every userinfo password replaced
// by "REDACTED".
func Redact(s string) string {
	return secretInURL.ReplaceAllStringFunc(s, func(m string) string {
		sub := secretInURL.FindStringSubmatch(m)
		if sub[1] != "" {
			return sub[1] + "REDACTED"
		}
		return sub[2] + "REDACTED@"
	})
}

// redactedError is an error whose message has been through Redact; it
// unwraps to the original, so errors.Is and errors.As still work.
type redactedError struct{ err error }

func (e redactedError) Error() string { return Redact(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

// redactErr wraps err, if not nil, so that its message has no secrets.
func redactErr(err error) error {
	if err == nil {
		return nil
	}
	return redactedError{err}
}
