package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"tabswarm/signaling"
)

// TestHammer has many peers send a random mix of good and bad messages
// concurrently, while reading what they get (some never read). The tracker
// must stay up, keep within its bounds throughout, and be empty once every
// peer has gone.
func TestHammer(t *testing.T) {
	opts := Options{
		MaxSwarms: 8, MaxSwarmsPerPeer: 3, MaxPendingOffers: 4, MaxManifestMemory: 64 << 10,
		MessageRate: 500, MessageBurst: 50, MaxStrikes: 1000, SendQueue: 16,
		WriteTimeout: 2 * time.Second, MaxConnsPerIP: 100,
	}
	s := startServer(t, "127.0.0.1:0", opts)
	var files []testFile
	for i := range 12 {
		files = append(files, newFile(t, int64(i+1)<<18))
	}
	const peers, msgs = 40, 150
	var ids sync.Map // index → peer ID
	var wg sync.WaitGroup
	for i := range peers {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			ws, _, err := websocket.Dial(ctx, s.wsURL(), nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer ws.CloseNow()
			_, b, err := ws.Read(ctx)
			var w signaling.Message
			if err != nil || json.Unmarshal(b, &w) != nil {
				t.Errorf("welcome: %v", err)
				return
			}
			ids.Store(i, w.PeerID)
			if i%5 != 0 { // every fifth peer never reads
				go func() {
					for {
						if _, _, err := ws.Read(ctx); err != nil {
							return
						}
					}
				}()
			}
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for n := range msgs {
				if err := ws.Write(ctx, websocket.MessageText, hammerFrame(r, files, &ids, peers, n)); err != nil {
					return // dropped as slow or over the caps: fine
				}
			}
		})
	}
	// Check the bounds while it runs.
	stop := make(chan struct{})
	var bounds sync.WaitGroup
	bounds.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			s.reg.mu.Lock()
			if len(s.reg.swarms) > opts.MaxSwarms || s.reg.manifestBytes > opts.MaxManifestMemory {
				t.Errorf("%d swarms, %d manifest bytes: over the bounds", len(s.reg.swarms), s.reg.manifestBytes)
			}
			for _, p := range s.reg.peers {
				if len(p.swarms) > opts.MaxSwarmsPerPeer || len(p.offers) > opts.MaxPendingOffers {
					t.Errorf("peer in %d swarms with %d offers: over the bounds", len(p.swarms), len(p.offers))
				}
			}
			s.reg.mu.Unlock()
		}
	})
	wg.Wait()
	close(stop)
	bounds.Wait()

	// Still serving.
	probe := s.dial(t)
	probe.mustOK(files[0].announce(1, 0, true))
	probe.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, "the table to empty", func() bool {
		s.reg.mu.Lock()
		defer s.reg.mu.Unlock()
		return len(s.reg.peers) == 0 && len(s.reg.swarms) == 0 && s.reg.manifestBytes == 0
	})
	eventually(t, "the connection counts to empty", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.active == 0 && len(s.perIP) == 0
	})
}

// hammerFrame returns a random frame: mostly protocol messages about a few
// files and peers, some garbage.
func hammerFrame(r *rand.Rand, files []testFile, ids *sync.Map, peers, n int) []byte {
	f := files[r.IntN(len(files))]
	to := "nobody"
	if v, ok := ids.Load(r.IntN(peers)); ok {
		to = v.(string)
	}
	kinds := []signaling.SignalKind{signaling.SignalOffer, signaling.SignalAnswer, signaling.SignalClose, "bogus"}
	var m signaling.Message
	switch r.IntN(10) {
	case 0, 1:
		m = f.announce(uint64(n), r.IntN(f.m.NumChunks()+2)-1, r.IntN(3) == 0)
		m.Uploaded, m.Downloaded = r.Int64N(1<<40), r.Int64N(1<<40)
	case 2:
		m = signaling.Message{Type: signaling.TypeAnnounce, Digest: f.digest(), Have: 1}
	case 3, 4:
		m = signaling.Message{Type: signaling.TypeQuery, ID: uint64(n), Digest: f.digest()}
	case 5:
		m = signaling.Message{Type: signaling.TypeLeave, Digest: f.digest()}
	case 6, 7, 8:
		m = signaling.Message{Type: signaling.TypeSignal, To: to, Digest: f.digest(), Signal: &signaling.Signal{
			Kind: kinds[r.IntN(len(kinds))], Session: fmt.Sprint(r.IntN(8)), SDP: strings.Repeat("v", r.IntN(2000)),
		}}
	default:
		junk := [][]byte{[]byte("{"), []byte(`{"type":"nope"}`), []byte(`[]`), []byte(`{"type":"signal","signal":{}}`), {0xff, 0xfe}}
		return junk[r.IntN(len(junk))]
	}
	b, _ := json.Marshal(m)
	return b
}
