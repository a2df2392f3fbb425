package natsbus

import (
	"os"
	"testing"

	"tabswarm/internal/leakcheck"
)

// TestMain fails the run if goroutines outlive the tests: every server,
// bus, tracker and client a test starts must be gone when it ends. Run
// with benchNodeEnv set, the test binary is instead one node of a
// benchmark's cluster (benchNodeMain).
func TestMain(m *testing.M) {
	if os.Getenv(benchNodeEnv) != "" {
		os.Exit(benchNodeMain())
	}
	leakcheck.Main(m)
}
