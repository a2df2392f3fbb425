//go:build !js

package swarm_test

import (
	"testing"

	"tabswarm/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: every node, peer
// connection and file loop a test starts must be gone when it ends.
func TestMain(m *testing.M) { leakcheck.Main(m) }
