package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestSecurePageUsesSubtle loads the app as http://localhost, a secure
// context: the tabs hash with crypto.subtle instead of Go, and a share and
// a download between two of them still agree byte for byte.
func TestSecurePageUsesSubtle(t *testing.T) {
	e := newEnv(t)
	e.base = strings.Replace(e.base, appHost, "localhost", 1)
	f := makeFile(t, t.TempDir(), "secure.bin", 3<<20+3)
	alice := e.newPerson(t, "alice", "/")
	alice.waitConsole(t, "chunk_sha256=crypto.subtle", 10*time.Second)
	alice.share(t, f)
	e.waitListed(t, f.digest)
	bob := e.newPerson(t, "bob", "/")
	bob.get(t, f.digest, f.digest, f.size)
	checkSaved(t, "bob", f, bob.save(t, f.digest, f.size))
}
