package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"tabswarm/signaling"
)

// client is one WebSocket connection to the tracker. Its reader goroutine
// answers offers at once and, while relaying is on, sends the next offer
// when an answer comes back, so each pair keeps one signal in flight.
type client struct {
	ws       *websocket.Conn
	id       string
	peer     *client // the other member of this client's pair
	digest   string
	manifest json.RawMessage // this pair's, sent with the first announce
	offers   bool            // this member sends offers; the other answers

	replies chan signaling.Message // ok and error replies
	relay   *relayState

	mu      sync.Mutex
	lat     []time.Duration // one-way latency of each relayed signal received
	session int
}

// relayState is shared by all clients during one relay phase.
type relayState struct {
	on    atomic.Bool
	count atomic.Int64
	last  atomic.Int64 // unix nanoseconds of the last relayed signal received
}

// dialers returns one HTTP client per source address 127.1.x.y, so that no
// address holds more than perAddr connections (the tracker caps them).
func dialers(n, perAddr int) []*http.Client {
	var cs []*http.Client
	for i := 0; i*perAddr < n; i++ {
		src := &net.TCPAddr{IP: net.IPv4(127, 1, byte(i/250), byte(i%250+1))}
		d := &net.Dialer{LocalAddr: src, Timeout: 30 * time.Second}
		cs = append(cs, &http.Client{Transport: &http.Transport{DialContext: d.DialContext}})
	}
	return cs
}

// dial connects a client and waits for its welcome.
func dial(ctx context.Context, hc *http.Client, url string, relay *relayState) (*client, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(signaling.MaxMessageBytes)
	var m signaling.Message
	if err := readJSON(ctx, ws, &m); err != nil || m.Type != signaling.TypeWelcome {
		ws.CloseNow()
		return nil, fmt.Errorf("no welcome (%v, %q)", err, m.Type)
	}
	return &client{ws: ws, id: m.PeerID, replies: make(chan signaling.Message, 4), relay: relay}, nil
}

func readJSON(ctx context.Context, ws *websocket.Conn, m *signaling.Message) error {
	_, data, err := ws.Read(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, m)
}

func (c *client) send(ctx context.Context, m signaling.Message) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.ws.Write(ctx, websocket.MessageText, data)
}

// request sends m with ID id and returns the reply's round trip.
func (c *client) request(ctx context.Context, m signaling.Message) (time.Duration, error) {
	start := time.Now()
	if err := c.send(ctx, m); err != nil {
		return 0, err
	}
	select {
	case r := <-c.replies:
		if r.Error != nil {
			return 0, r.Error
		}
		return time.Since(start), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// offer sends the next offer to the pair's other member, stamped with the
// time it was sent.
func (c *client) offer(ctx context.Context) error {
	c.mu.Lock()
	c.session++
	s := c.session
	c.mu.Unlock()
	return c.signal(ctx, signaling.SignalOffer, "s"+strconv.Itoa(s))
}

func (c *client) signal(ctx context.Context, kind signaling.SignalKind, session string) error {
	return c.send(ctx, signaling.Message{Type: signaling.TypeSignal, To: c.peer.id, Digest: c.digest,
		Signal: &signaling.Signal{Kind: kind, Session: session, SDP: strconv.FormatInt(time.Now().UnixNano(), 10)}})
}

// read handles incoming messages until the connection ends.
func (c *client) read(ctx context.Context) {
	for {
		var m signaling.Message
		if err := readJSON(ctx, c.ws, &m); err != nil {
			return
		}
		switch m.Type {
		case signaling.TypeOK, signaling.TypeError:
			if m.ID == 0 && m.Error != nil {
				fmt.Printf("loadgen: tracker error: %v\n", m.Error)
				continue
			}
			c.replies <- m
		case signaling.TypeSignal:
			now := time.Now()
			sent, _ := strconv.ParseInt(m.Signal.SDP, 10, 64)
			c.mu.Lock()
			c.lat = append(c.lat, now.Sub(time.Unix(0, sent)))
			c.mu.Unlock()
			c.relay.count.Add(1)
			c.relay.last.Store(now.UnixNano())
			switch {
			case m.Signal.Kind == signaling.SignalOffer:
				c.signal(ctx, signaling.SignalAnswer, m.Signal.Session)
			case c.relay.on.Load():
				c.offer(ctx)
			}
		}
	}
}

// takeLatencies returns and clears the relayed signals' latencies.
func (c *client) takeLatencies() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lat
	c.lat = nil
	return l
}
