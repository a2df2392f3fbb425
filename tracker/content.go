package tracker

import (
	"encoding/json"

	"tabswarm/swarm"
)

// content is what the registry keeps of a validated .p2t: one file's
// manifest or a collection's.
type content struct {
	raw   json.RawMessage // canonical JSON, validated against the digest
	name  string
	size  int64
	parts int // what an announce's Have counts: a file's chunks, a collection's files
	// nameless renders the same .p2t without its name (and media type),
	// which the digest does not cover.
	nameless func() json.RawMessage
}

// parseContent validates data, a .p2t of either kind, against d.
func parseContent(data []byte, d swarm.Hash) (*content, error) {
	m, c, err := swarm.ParseP2T(data, d)
	if err != nil {
		return nil, err
	}
	if c != nil {
		return &content{raw: mustMarshal(c), name: c.Name, size: c.Size, parts: len(c.Files), nameless: func() json.RawMessage {
			anon := *c
			anon.Name = ""
			return mustMarshal(&anon)
		}}, nil
	}
	return fileContent(m), nil
}

// fileContent is the content of a validated file manifest.
func fileContent(m *swarm.Manifest) *content {
	return &content{raw: mustMarshal(m), name: m.Name, size: m.Size, parts: m.NumChunks(), nameless: func() json.RawMessage {
		anon := *m
		anon.Name, anon.Type = "", ""
		return mustMarshal(&anon)
	}}
}
