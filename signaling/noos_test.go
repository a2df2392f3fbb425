//go:build !js

package signaling_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoOSImports guards that, built for the browser, the package imports
// neither os nor syscall/js itself (its dependencies may).
func TestNoOSImports(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", "{{join .Imports \" \"}}", "tabswarm/signaling")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		if imp == "os" || imp == "syscall/js" {
			t.Errorf("signaling imports %s on js/wasm", imp)
		}
	}
}
