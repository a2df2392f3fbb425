package tracker

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tabswarm/signaling"
)

// metrics are the tracker's Prometheus metrics, on a registry of its own
// (so that two Trackers in one process do not collide). Every label takes
// values from a fixed set: nothing a peer sends becomes a label.
type metrics struct {
	reg      *prometheus.Registry
	messages *prometheus.CounterVec // by type
	errors   *prometheus.CounterVec // by code
	relayed  *prometheus.CounterVec // by signal kind
	refused  *prometheus.CounterVec // refused WebSocket handshakes, by reason
	dropped  *prometheus.CounterVec // connections the tracker closed, by reason

	// The messages and relayed children, looked up once rather than by
	// label on every message.
	byType map[signaling.Type]prometheus.Counter
	byKind map[signaling.SignalKind]prometheus.Counter
}

// Label values.
const (
	refusedOrigin = "origin"
	refusedToken  = "token"
	refusedPerIP  = "per_ip"
	refusedFull   = "full"
	droppedSlow   = "slow"
	droppedCaps   = "caps"
	labelOther    = "other"
)

func newMetrics(t *Tracker) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tabswarm_signalling_messages_total",
			Help: "Signalling messages received from peers, by type (other: undecodable, rate limited or unknown).",
		}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tabswarm_signalling_errors_total",
			Help: "Typed errors sent to peers, by code.",
		}, []string{"code"}),
		relayed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tabswarm_signals_relayed_total",
			Help: "Signals relayed between peers, by kind.",
		}, []string{"kind"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tabswarm_websocket_refused_total",
			Help: "WebSocket handshakes refused, by reason.",
		}, []string{"reason"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tabswarm_peers_dropped_total",
			Help: "Peer connections the tracker closed, by reason (slow: a full send queue; caps: over the caps too often).",
		}, []string{"reason"}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	m.reg.MustRegister(
		m.messages, m.errors, m.relayed, m.refused, m.dropped,
		gauge("tabswarm_peers", "Peers connected over WebSocket.", func() float64 {
			n, _ := t.reg.counts()
			return float64(n)
		}),
		gauge("tabswarm_swarms", "Swarms (files with at least one holder).", func() float64 {
			_, n := t.reg.counts()
			return float64(n)
		}),
		gauge("tabswarm_uptime_seconds", "Seconds since the tracker started.", func() float64 {
			return time.Since(t.started).Seconds()
		}),
		counter("tabswarm_reported_uploaded_bytes_total", "Bytes peers reported sending to each other.", func() float64 {
			up, _ := t.reg.moved()
			return float64(up)
		}),
		counter("tabswarm_reported_downloaded_bytes_total", "Bytes peers reported receiving from each other.", func() float64 {
			_, down := t.reg.moved()
			return float64(down)
		}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.byType = make(map[signaling.Type]prometheus.Counter)
	for _, typ := range []signaling.Type{signaling.TypeHello, signaling.TypeAnnounce, signaling.TypeLeave, signaling.TypeQuery, signaling.TypeSignal, labelOther} {
		m.byType[typ] = m.messages.WithLabelValues(string(typ))
	}
	m.byKind = make(map[signaling.SignalKind]prometheus.Counter)
	for _, k := range []signaling.SignalKind{signaling.SignalOffer, signaling.SignalAnswer, signaling.SignalClose} {
		m.byKind[k] = m.relayed.WithLabelValues(string(k))
	}
	return m
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// message counts one incoming message of type typ.
func (m *metrics) message(typ signaling.Type) {
	c, ok := m.byType[typ]
	if !ok {
		c = m.byType[labelOther]
	}
	c.Inc()
}

// errorLabel maps a code to a label value from a fixed set.
func errorLabel(c signaling.ErrorCode) string {
	switch c {
	case signaling.CodeBadMessage, signaling.CodeTooLarge, signaling.CodeUnknownType,
		signaling.CodeBadDigest, signaling.CodeBadManifest, signaling.CodeUnknownFile,
		signaling.CodeUnknownPeer, signaling.CodeRateLimited, signaling.CodeNotInSwarm,
		signaling.CodeNoOffer:
		return string(c)
	}
	return labelOther
}
