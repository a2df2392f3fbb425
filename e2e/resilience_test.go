package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"tabswarm/signaling"
	"tabswarm/swarm"
	"tabswarm/tracker"
)

// TestTrackerRestart is issue 5's restart test: the tracker restarts in the
// middle of a transfer. The transfer, over a data channel that is already
// open, completes; the peers reconnect and re-announce, and a download
// started after the restart works. The seeder is a native peer gated at
// half the chunks until the restart (gate_test.go), so the restart is
// certainly mid-transfer.
func TestTrackerRestart(t *testing.T) {
	const size = 24 << 20
	e := newEnv(t)
	f := makeFile(t, t.TempDir(), "restart.bin", size)
	chunks := numChunks(size)
	alice := e.startGatedSeeder(t, "alice", f, chunks/2)

	bob := e.newPerson(t, "bob", "/")
	bob.pressGet(t, f.digest)
	bob.waitFile(t, "a quarter of the file", f.digest, statsPoll, 2*time.Minute, haveAtLeast(chunks/4))
	e.tracker.restart(500 * time.Millisecond)
	alice.gate.Release()
	s, _ := bob.mustStats(t).file(f.digest)
	t.Logf("tracker restarted with bob at %s", fileText(s))
	if s.State == swarm.StateSeeding {
		t.Fatalf("bob finished before the restart: the gate let too much through")
	}
	bob.waitRow(t, "download across the restart", byDigest(f.digest), stateSeeding, 2*time.Minute)
	checkSaved(t, "bob", f, bob.save(t, f.digest, size))

	// Alice re-announced to the new tracker; a newcomer finds her.
	e.waitListed(t, f.digest)
	carol := e.newPerson(t, "carol", "/")
	carol.get(t, f.digest, f.digest, size)
	checkSaved(t, "carol", f, carol.save(t, f.digest, size))
}

// TestChurn is issue 5's churn test: about 200 synthetic WebSocket peers
// join, announce, signal and leave in a loop while a real browser transfer
// completes correctly.
func TestChurn(t *testing.T) {
	const size = 16 << 20
	e := newEnvWith(t, tracker.Options{MaxConnsPerIP: 1000, HTTPRate: 100000})
	f := makeFile(t, t.TempDir(), "churn.bin", size)
	alice := e.newPerson(t, "alice", "/")
	alice.share(t, f)
	e.waitListed(t, f.digest)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var rounds, errs atomic.Int64
	url := "ws://" + e.trackerAddr(t) + "/ws"
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for ctx.Err() == nil {
				if err := churnOnce(ctx, url, f.digest, r); err != nil && ctx.Err() == nil {
					errs.Add(1)
				}
				rounds.Add(1)
			}
		}()
	}
	bob := e.newPerson(t, "bob", "/")
	bob.get(t, f.digest, f.digest, size)
	cancel()
	wg.Wait()
	checkSaved(t, "bob", f, bob.save(t, f.digest, size))
	t.Logf("%d synthetic peer sessions, %d ended in an unexpected error", rounds.Load(), errs.Load())
	if rounds.Load() < 200 {
		t.Fatalf("only %d synthetic sessions ran", rounds.Load())
	}
}

// churnOnce is one synthetic peer's life: connect, announce a small file of
// its own, ask about the real file, signal a peer of its own swarm (or get a
// typed error), and leave.
func churnOnce(ctx context.Context, url, realDigest string, r *rand.Rand) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return err
	}
	defer ws.CloseNow()
	var welcome signaling.Message
	if err := wsjson.Read(ctx, ws, &welcome); err != nil {
		return err
	}
	hashes := []swarm.Hash{{byte(r.Uint32()), byte(r.Uint32()), 1}}
	m := swarm.NewManifest(fmt.Sprintf("synthetic-%d", r.Uint32()), "", 10, hashes)
	for _, msg := range []signaling.Message{
		{Type: signaling.TypeAnnounce, ID: 1, Digest: m.Digest.String(), Manifest: mustJSON(m), Have: 1, Complete: true},
		{Type: signaling.TypeQuery, ID: 2, Digest: realDigest},
		{Type: signaling.TypeSignal, ID: 3, To: "nobody", Digest: m.Digest.String(),
			Signal: &signaling.Signal{Kind: signaling.SignalOffer, Session: "s", SDP: "v=0"}},
	} {
		if _, err := request(ctx, ws, msg); err != nil {
			return err
		}
	}
	time.Sleep(time.Duration(r.IntN(200)) * time.Millisecond)
	return ws.Close(websocket.StatusNormalClosure, "bye")
}

// request sends msg, which has an ID, and reads until the reply to it,
// which it returns; messages in between are dropped.
func request(ctx context.Context, ws *websocket.Conn, msg signaling.Message) (signaling.Message, error) {
	if err := wsjson.Write(ctx, ws, msg); err != nil {
		return signaling.Message{}, err
	}
	var reply signaling.Message
	for reply.ID != msg.ID {
		reply = signaling.Message{}
		if err := wsjson.Read(ctx, ws, &reply); err != nil {
			return reply, err
		}
	}
	return reply, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
