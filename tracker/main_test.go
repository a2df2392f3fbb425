package tracker

import (
	"testing"

	"tabswarm/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: every tracker,
// connection and client a test starts must be gone when it ends.
func TestMain(m *testing.M) { leakcheck.Main(m) }
