package main

import (
	"errors"
	"strings"
	"testing"

	"tabswarm/signaling"
)

func TestCLIName(t *testing.T) {
	for _, c := range []struct {
		host string
		err  error
		want string
	}{
		{"laptop.local", nil, "laptop (CLI)"},
		{"", nil, "tabswarm (CLI)"},
		{"x", errors.New("no hostname"), "tabswarm (CLI)"},
		{strings.Repeat("h", 63), nil, strings.Repeat("h", 32) + " (CLI)"},
	} {
		got := cliName(c.host, c.err)
		if got != c.want {
			t.Errorf("cliName(%q, %v) = %q, want %q", c.host, c.err, got, c.want)
		}
		if clean, err := signaling.CleanName(got); err != nil || clean != got {
			t.Errorf("the tracker would keep %q as %q (%v)", got, clean, err)
		}
	}
}
