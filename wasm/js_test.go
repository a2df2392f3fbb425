//go:build js

package main

import (
	"errors"
	"strings"
	"syscall/js"
	"testing"

	"tabswarm/swarm"
)

func TestQuotaErrorIsClear(t *testing.T) {
	ex := js.Global().Get("DOMException").New("The quota has been exceeded.", "QuotaExceededError")
	err := toError(ex)
	if !errors.Is(err, swarm.ErrQuota) {
		t.Fatalf("%v is not ErrQuota", err)
	}
	if msg := errorText(err); !strings.Contains(msg, "storage is full") {
		t.Fatalf("message %q does not say storage is full", msg)
	}
	if errors.Is(toError(js.Global().Get("Error").New("boom")), swarm.ErrQuota) {
		t.Fatal("a plain Error matched ErrQuota")
	}
}

func TestUnreadableFileErrorIsClear(t *testing.T) {
	ex := js.Global().Get("DOMException").New("The requested file could not be read.", "NotReadableError")
	err := toError(ex)
	if !errors.Is(err, errUnreadable) || errors.Is(err, swarm.ErrQuota) {
		t.Fatalf("%v: want errUnreadable only", err)
	}
	if msg := errorText(err); !strings.Contains(msg, "Pick it again") {
		t.Fatalf("message %q does not say to pick the file again", msg)
	}
	// A worker reports its exception as a plain {name, message} object.
	obj := js.ValueOf(map[string]any{"name": "NotReadableError", "message": "gone"})
	if err := toError(obj); !errors.Is(err, errUnreadable) {
		t.Fatalf("%v is not errUnreadable", err)
	}
}

func TestErrorTexts(t *testing.T) {
	for err, want := range map[error]string{
		swarm.ErrNoPeers:     "No peer has this file",
		swarm.ErrBadManifest: "invalid",
		swarm.ErrNoTracker:   "Cannot reach the tracker",
	} {
		if got := errorText(err); !strings.Contains(got, want) {
			t.Errorf("errorText(%v) = %q, want it to contain %q", err, got, want)
		}
	}
}
