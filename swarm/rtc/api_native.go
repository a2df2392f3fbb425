//go:build !js

package rtc

import (
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// newAPI returns pion's API with multicast DNS off: host candidates carry
// plain addresses, as browsers' do when their mDNS hiding is disabled, and
// nothing is sent to the multicast group.
func newAPI() *webrtc.API {
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}
