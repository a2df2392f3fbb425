package natsbus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"tabswarm/swarm"
	"tabswarm/tracker"
)

// Bus is a tracker.Bus over NATS. Close it after the Tracker.
type Bus struct {
	opts   Options
	node   string
	prefix string         // tabswarm.CLUSTER.
	srv    *server.Server // the embedded server, or nil
	nc     *nats.Conn
	target atomic.Pointer[tracker.BusNode]

	swarmMsgs chan *nats.Msg // what every swarm subscription receives
	done      chan struct{}  // closed by Close: the workers end
	closeOnce sync.Once
	workers   sync.WaitGroup

	mu     sync.Mutex
	swarms map[swarm.Hash]*nats.Subscription // the swarms with members here

	sent sentRing // the signals Send sent, until a refusal comes back
}

var _ tracker.Bus = (*Bus)(nil)

// swarmQueue bounds the swarm messages waiting for a worker; past it NATS
// drops them (a slow consumer), and the askers see fewer answers.
const swarmQueue = 4096

// swarmWorkers is how many goroutines serve swarm questions and notices.
const swarmWorkers = 2

var clusterName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Start starts a Bus: it embeds a NATS server routed to the other nodes,
// or joins the deployment at o.URL, and subscribes this node's subjects.
// It fails when the server takes payloads smaller than
// tracker.MaxBusMessage (ErrPayload).
func Start(ctx context.Context, o Options) (*Bus, error) {
	o = o.withDefaults()
	if !clusterName.MatchString(o.ClusterName) {
		return nil, fmt.Errorf("%w: cluster name %q: use 1 to 64 letters, digits, '-' or '_'", ErrConfig, o.ClusterName)
	}
	b := &Bus{
		opts:      o,
		node:      tracker.NewNodeID(),
		prefix:    "tabswarm." + o.ClusterName + ".",
		swarmMsgs: make(chan *nats.Msg, swarmQueue),
		done:      make(chan struct{}),
		swarms:    make(map[swarm.Hash]*nats.Subscription),
	}
	opts := []nats.Option{nats.Name("tabswarm node " + b.node), nats.NoEcho(), nats.MaxReconnects(-1)}
	url := o.URL
	switch {
	case o.URL != "" && o.ClusterListen != "":
		return nil, fmt.Errorf("%w: join a NATS deployment (URL) or embed a server (ClusterListen), not both", ErrConfig)
	case o.URL != "":
		if o.Token != "" {
			opts = append(opts, nats.Token(o.Token))
		}
		if o.TLS.CA != "" {
			opts = append(opts, nats.RootCAs(o.TLS.CA))
		}
		if o.TLS.Cert != "" || o.TLS.Key != "" {
			opts = append(opts, nats.ClientCert(o.TLS.Cert, o.TLS.Key))
		}
	case o.ClusterListen != "":
		srv, err := startServer(o, b.node)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		opts = append(opts, nats.InProcessServer(srv), nats.Token(o.Token))
	default:
		return nil, fmt.Errorf("%w: neither a NATS URL nor a cluster listen address", ErrConfig)
	}
	if err := b.connect(ctx, url, opts); err != nil {
		b.shutdownServer()
		return nil, err
	}
	return b, nil
}

// connect connects to NATS, checks its max payload and subscribes the
// node's own subjects.
func (b *Bus) connect(ctx context.Context, url string, opts []nats.Option) error {
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("natsbus: connecting to NATS %s: %w", url, err)
	}
	b.nc = nc
	if max := nc.MaxPayload(); max < tracker.MaxBusMessage {
		nc.Close()
		return fmt.Errorf("%w: the NATS server takes messages of at most %d bytes, and a manifest alone can take %d: set max_payload to at least %d in its configuration", ErrPayload, max, tracker.MaxBusMessage, tracker.MaxBusMessage)
	}
	if _, err := nc.Subscribe(b.prefix+"relay."+b.node, b.serveRelay); err != nil {
		nc.Close()
		return fmt.Errorf("natsbus: subscribing: %w", err)
	}
	if _, err := nc.Subscribe(b.prefix+"send."+b.node, b.serveSend); err != nil {
		nc.Close()
		return fmt.Errorf("natsbus: subscribing: %w", err)
	}
	if _, err := nc.Subscribe(b.prefix+"refused."+b.node+".*", b.serveRefused); err != nil {
		nc.Close()
		return fmt.Errorf("natsbus: subscribing: %w", err)
	}
	if _, err := nc.Subscribe(b.prefix+"all", b.serveAll); err != nil {
		nc.Close()
		return fmt.Errorf("natsbus: subscribing: %w", err)
	}
	// Subscriptions reach the server in order: once this round trip is
	// done, the local server has them.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := nc.FlushWithContext(fctx); err != nil {
		nc.Close()
		return fmt.Errorf("natsbus: connecting to NATS %s: %w", url, err)
	}
	for range swarmWorkers {
		b.workers.Add(1)
		go b.serveSwarms()
	}
	return nil
}

// NodeID returns this node's ID.
func (b *Bus) NodeID() string { return b.node }

// Attach sets the node that serves requests from other nodes.
func (b *Bus) Attach(n tracker.BusNode) { b.target.Store(&n) }

// ClusterAddr returns the address the embedded server takes routes on, or
// nil when there is none.
func (b *Bus) ClusterAddr() net.Addr {
	if b.srv == nil {
		return nil
	}
	return b.srv.ClusterAddr()
}

// Close unsubscribes, disconnects and stops the embedded server. Later
// calls do nothing.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.nc.Close()
		close(b.done)
		b.workers.Wait()
		b.shutdownServer()
	})
	return nil
}

func (b *Bus) shutdownServer() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

// Relay sends req to node's relay subject and returns the reply.
func (b *Bus) Relay(ctx context.Context, node string, req []byte) ([]byte, error) {
	m, err := b.nc.RequestWithContext(ctx, b.prefix+"relay."+node, req)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("%w: %s", tracker.ErrNoNode, node)
	}
	if err != nil {
		return nil, fmt.Errorf("natsbus: relaying to node %s: %w", node, err)
	}
	return m.Data, nil
}

// Send publishes req to node's send subject, with a reply subject of
// this node's that names refused. The other node publishes there only to
// refuse; when nothing subscribes to node's subject (no such node), the
// NATS server says so there at once (no responders).
func (b *Bus) Send(node string, req []byte, refused func([]byte, error)) error {
	seq := b.sent.add(refused)
	reply := b.prefix + "refused." + b.node + "." + strconv.FormatUint(seq, 36)
	if err := b.nc.PublishRequest(b.prefix+"send."+node, reply, req); err != nil {
		b.sent.take(seq)
		return fmt.Errorf("natsbus: relaying to node %s: %w", node, err)
	}
	return nil
}

// AskSwarm asks the nodes with members in d's swarm.
func (b *Bus) AskSwarm(ctx context.Context, d swarm.Hash, req []byte) ([][]byte, error) {
	return b.gather(ctx, b.swarmSubject(d)+".ask", req)
}

// AskAll asks every other node.
func (b *Bus) AskAll(ctx context.Context, req []byte) ([][]byte, error) {
	return b.gather(ctx, b.prefix+"all", req)
}

// gather publishes req on subj and collects the replies that arrive within
// the wait.
func (b *Bus) gather(ctx context.Context, subj string, req []byte) ([][]byte, error) {
	sub, err := b.nc.SubscribeSync(b.nc.NewInbox())
	if err != nil {
		return nil, fmt.Errorf("natsbus: asking %s: %w", subj, err)
	}
	defer sub.Unsubscribe()
	if err := b.nc.PublishRequest(subj, sub.Subject, req); err != nil {
		return nil, fmt.Errorf("natsbus: asking %s: %w", subj, err)
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.Wait)
	defer cancel()
	var replies [][]byte
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return replies, nil // the wait is over
		}
		replies = append(replies, m.Data)
	}
}

// Notify publishes msg to the nodes with members in d's swarm.
func (b *Bus) Notify(d swarm.Hash, msg []byte) {
	if err := b.nc.Publish(b.swarmSubject(d)+".note", msg); err != nil {
		b.opts.Logger.Warn("natsbus: publishing a newcomer", "digest", d.String(), "err", err)
	}
}

// Interest subscribes to or unsubscribes from d's swarm subjects.
func (b *Bus) Interest(d swarm.Hash, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sub := b.swarms[d]
	switch {
	case on && sub == nil:
		sub, err := b.nc.ChanSubscribe(b.swarmSubject(d)+".*", b.swarmMsgs)
		if err != nil {
			b.opts.Logger.Warn("natsbus: subscribing to a swarm", "digest", d.String(), "err", err)
			return
		}
		b.swarms[d] = sub
	case !on && sub != nil:
		sub.Unsubscribe()
		delete(b.swarms, d)
	}
}

func (b *Bus) swarmSubject(d swarm.Hash) string { return b.prefix + "swarm." + d.String() }

// node returns the attached node, or nil before Attach.
func (b *Bus) attached() tracker.BusNode {
	if n := b.target.Load(); n != nil {
		return *n
	}
	return nil
}

func (b *Bus) serveRelay(m *nats.Msg) {
	if n := b.attached(); n != nil {
		m.Respond(n.ServeRelay(m.Data))
	}
}

// serveSend delivers a signal Send sent and answers only a refusal.
func (b *Bus) serveSend(m *nats.Msg) {
	if n := b.attached(); n != nil {
		if reply := n.ServeRelay(m.Data); len(reply) > 0 && m.Reply != "" {
			m.Respond(reply)
		}
	}
}

// serveRefused hands a refusal, or the server's word that no node took
// the signal, to the Send that sent it.
func (b *Bus) serveRefused(m *nats.Msg) {
	seq, err := strconv.ParseUint(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:], 36, 64)
	if err != nil {
		return
	}
	refused := b.sent.take(seq)
	switch {
	case refused == nil: // a late refusal, its place long reused
		b.opts.Logger.Warn("natsbus: a refusal came too late to report", "subject", m.Subject)
	case len(m.Data) == 0 && m.Header.Get("Status") == "503":
		refused(nil, fmt.Errorf("%w: %s", tracker.ErrNoNode, strings.TrimPrefix(m.Subject, b.prefix)))
	default:
		refused(m.Data, nil)
	}
}

func (b *Bus) serveAll(m *nats.Msg) {
	if n := b.attached(); n != nil {
		m.Respond(n.ServeAll(m.Data))
	}
}

// serveSwarms serves swarm questions and notices until Close.
func (b *Bus) serveSwarms() {
	defer b.workers.Done()
	for {
		var m *nats.Msg
		select {
		case m = <-b.swarmMsgs:
		case <-b.done:
			return
		}
		b.serveSwarm(m)
	}
}

// serveSwarm serves one question or notice about a swarm.
func (b *Bus) serveSwarm(m *nats.Msg) {
	n := b.attached()
	rest, ok := strings.CutPrefix(m.Subject, b.prefix+"swarm.")
	digest, kind, _ := strings.Cut(rest, ".")
	d, err := swarm.ParseDigest(digest)
	if n == nil || !ok || err != nil {
		return
	}
	switch kind {
	case "ask":
		if reply, ok := n.ServeSwarm(d, m.Data); ok {
			m.Respond(reply)
		}
	case "note":
		n.ServeNotice(d, m.Data)
	}
}
