package tracker

import (
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"tabswarm/signaling"
)

// A real data-channel offer from pion, with every candidate this machine
// gathers, fits MaxSDPBytes with room for a hundred more candidates as long
// as its longest, and the tracker relays it.
func TestRealOfferFits(t *testing.T) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.CreateDataChannel("d", nil); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-done
	sdp := pc.LocalDescription().SDP
	longest := 0
	for _, line := range strings.Split(sdp, "\r\n") {
		if strings.HasPrefix(line, "a=candidate") {
			longest = max(longest, len(line)+2)
		}
	}
	longest = max(longest, 150) // a Chromium candidate with an mDNS name and network cost
	t.Logf("offer: %d bytes, %d candidates, the longest %d bytes", len(sdp), strings.Count(sdp, "a=candidate"), longest)
	if need := len(sdp) + 100*longest; need > signaling.MaxSDPBytes {
		t.Errorf("an offer with 100 more candidates needs %d bytes; MaxSDPBytes is %d", need, signaling.MaxSDPBytes)
	}

	s := startServer(t, "127.0.0.1:0", Options{})
	f := newFile(t, 1<<20)
	a, b := s.dial(t), s.dial(t)
	a.mustOK(f.announce(1, 0, true))
	b.mustOK(f.announce(1, 0, true))
	b.mustOK(signaling.Message{Type: signaling.TypeSignal, ID: 2, To: a.id, Digest: f.digest(),
		Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: "s", SDP: sdp}})
	if m := a.recv(); m.Type != signaling.TypeSignal || m.Signal.SDP != sdp {
		t.Errorf("relayed: %+v", m)
	}
}
