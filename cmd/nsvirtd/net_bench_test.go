package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

// BenchmarkNetworkStart measures what one veth interface on a bridge adds
// to a container start (API create → first line of init, with and without
// the interface, alternating), then starts 100 containers with one
// interface each and checks that stopping them leaves no link behind.
// Run it with -benchtime 1x (make bench does).
func BenchmarkNetworkStart(b *testing.B) {
	rootfs := busyboxRootfs(b)
	d := startDaemon(b)
	markers := markerDir(b)
	l := goClient(b, d.socket)
	defer l.Disconnect()
	br, net := testBridge(b)
	spec := func(name string, iface bool) string {
		// The baseline has its own network namespace too (<privnet/>),
		// so that the difference is the veth alone.
		c := containerSpec{name: name, root: rootfs, markers: markers, init: []string{"/bin/sh", "-c", fifoInit}, netOn: !iface}
		if iface {
			c.extra = bridgeIface(br, net+".5", "")
		}
		return c.xml()
	}
	timed := func(iface bool) time.Duration {
		fifo := newFIFO(b, markers)
		start := time.Now()
		name := "nbplain"
		if iface {
			name = "nbveth"
		}
		dom, err := l.DomainCreateXML(spec(name, iface), 0)
		if err != nil {
			b.Fatal(err)
		}
		readFIFO(b, fifo)
		took := time.Since(start)
		if err := l.DomainDestroy(dom); err != nil {
			b.Fatal(err)
		}
		return took
	}
	plain, veth := make([]time.Duration, benchRuns), make([]time.Duration, benchRuns)
	for i := 0; i < benchRuns; i++ {
		if i%2 == 0 {
			plain[i], veth[i] = timed(false), timed(true)
		} else {
			veth[i], plain[i] = timed(true), timed(false)
		}
	}
	const n = 100
	var doms []libvirt.Domain
	for i := 0; i < n; i++ {
		c := containerSpec{name: fmt.Sprintf("nm%03d", i), root: rootfs, markers: markers,
			init: []string{"/bin/sh", "-c", "exec sleep 100000"}, extra: bridgeIface(br, fmt.Sprintf("%s.%d", net, 10+i), "")}
		dom, err := l.DomainCreateXML(c.xml(), 0)
		if err != nil {
			b.Fatalf("start %d of %d: %v", i+1, n, err)
		}
		doms = append(doms, dom)
	}
	ports := len(bridgePorts(b, br))
	for _, dom := range doms {
		if err := l.DomainDestroy(dom); err != nil {
			b.Error(err)
		}
	}
	left := len(bridgePorts(b, br))
	out, _ := exec.Command("ip", "-o", "link").Output()
	vnets := strings.Count(string(out), ": vnet")
	if ports != n || left != 0 || vnets != 0 {
		b.Errorf("with %d containers the bridge had %d ports; after stopping them %d ports and %d vnet links are left", n, ports, left, vnets)
	}
	// Creating and destroying network namespaces back to back makes the
	// whole start noisy (the kernel tears namespaces down asynchronously),
	// so the figure is the start's network step, which is all the veth
	// adds; the whole starts are printed for reference.
	stepPlain := median(stepTimesFor(d.log.String(), "nbplain", "network"))
	stepVeth := median(stepTimesFor(d.log.String(), "nbveth", "network"))
	extra := stepVeth - stepPlain
	b.ReportMetric(float64(extra)/1e6, "veth-ms")
	fmt.Printf("\nnetwork start benchmark (medians of %d runs)\n", benchRuns)
	fmt.Printf("  %-46s %10s  (whole start %s)\n", "network step, <privnet/> and no interface", ms(stepPlain), ms(median(plain)))
	fmt.Printf("  %-46s %10s  (whole start %s)\n", "network step, one veth on a bridge", ms(stepVeth), ms(median(veth)))
	fmt.Printf("  %-46s %10s  (target < 5 ms)\n", "added by the veth", ms(extra))
	fmt.Printf("  %-46s %10d  (%d ports on the bridge; %d ports and %d vnet links left after stopping)\n",
		"containers with an interface started together", n, ports, left, vnets)
}
