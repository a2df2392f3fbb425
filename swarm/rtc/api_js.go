//go:build js

package rtc

import "github.com/pion/webrtc/v4"

// newAPI returns pion's API, which in the browser drives RTCPeerConnection.
func newAPI() *webrtc.API { return webrtc.NewAPI() }
