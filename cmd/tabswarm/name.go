package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"tabswarm/swarm/rtc"
)

// nameNode gives a native peer the name pages and the dashboard show for
// it: this machine's short host name, marked as the command line.
func nameNode(conn *rtc.Connector, log *slog.Logger) {
	if _, err := conn.SetName(context.Background(), cliName(os.Hostname())); err != nil {
		log.Debug("naming this peer", "err", err)
	}
}

// cliName makes a peer name from a host name: its first label, cut to
// fit signaling.MaxNameLen with the " (CLI)" mark.
func cliName(host string, err error) string {
	host, _, _ = strings.Cut(host, ".")
	if err != nil || host == "" {
		host = "tabswarm"
	}
	r := []rune(host)
	return string(r[:min(len(r), 32)]) + " (CLI)"
}
