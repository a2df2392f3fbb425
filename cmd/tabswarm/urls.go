package main

import (
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/skip2/go-qrcode"
)

// openURLs returns the URLs a browser can open to reach a listener at addr.
// On an unspecified address (":8080") that is every non-loopback IPv4 of the
// interfaces that are up, then localhost; on a loopback address only the
// local ones; on another address only that one. The error, if any, is from
// listing interfaces; the URLs are still usable.
func openURLs(addr net.Addr) ([]string, error) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return []string{"http://" + addr.String()}, nil
	}
	port := strconv.Itoa(tcp.Port)
	local := "http://localhost:" + port
	switch {
	case tcp.IP.IsLoopback():
		return []string{"http://" + net.JoinHostPort(tcp.IP.String(), port), local}, nil
	case !tcp.IP.IsUnspecified():
		return []string{"http://" + net.JoinHostPort(tcp.IP.String(), port)}, nil
	}
	ips, err := lanIPv4s()
	urls := make([]string, 0, len(ips)+1)
	for _, ip := range ips {
		urls = append(urls, "http://"+net.JoinHostPort(ip.String(), port))
	}
	return append(urls, local), err
}

// lanIPv4s returns the IPv4 addresses, neither loopback nor link-local, of
// the interfaces that are up.
func lanIPv4s() ([]net.IP, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var ips []net.IP
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip := ipn.IP.To4()
			if ip == nil || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
				continue
			}
			ips = append(ips, ip)
		}
	}
	return ips, nil
}

// printURLs tells where the app is and, on a terminal, shows the first URL
// as a QR code too, so that a phone can scan its way in.
func printURLs(w io.Writer, urls []string, private bool) {
	fmt.Fprintln(w, "tabswarm is serving; open it in a browser on this network:")
	for _, u := range urls {
		fmt.Fprintln(w, "  "+u)
	}
	if len(urls) > 0 && isTerminal(w) {
		// Half blocks, two modules a line, for a dark terminal: a dark
		// module is an empty cell, a light one a lit half.
		if q, err := qrcode.New(urls[0], qrcode.Medium); err == nil {
			fmt.Fprintf(w, "or scan %s:\n%s", urls[0], q.ToSmallString(false))
		}
	}
	if private {
		fmt.Fprintln(w, "This tracker is private: pages ask for its token once.")
	}
}
