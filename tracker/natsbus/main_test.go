package natsbus

import (
	"testing"

	"tabswarm/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: every server,
// bus, tracker and client a test starts must be gone when it ends.
func TestMain(m *testing.M) { leakcheck.Main(m) }
