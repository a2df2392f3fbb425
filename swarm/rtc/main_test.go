//go:build !js

package rtc

import (
	"testing"

	"tabswarm/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests.
func TestMain(m *testing.M) { leakcheck.Main(m) }
