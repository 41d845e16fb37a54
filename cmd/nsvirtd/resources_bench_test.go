package main

import (
	"fmt"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

// BenchmarkDomainStats measures virConnectGetAllDomainStats (all groups)
// with 100 running containers, through go-libvirt and through `virsh
// domstats`, next to `virsh uri` (virsh's own start-up and connection).
// Run it with -benchtime 1x (make bench does).
func BenchmarkDomainStats(b *testing.B) {
	const n = 100
	rootfs := busyboxRootfs(b)
	d := startDaemon(b)
	markers := markerDir(b)
	l := goClient(b, d.socket)
	defer l.Disconnect()
	var doms []libvirt.Domain
	defer func() {
		for _, dom := range doms {
			l.DomainDestroy(dom)
		}
	}()
	for i := 0; i < n; i++ {
		dom, err := l.DomainCreateXML(benchXML(fmt.Sprintf("st%03d", i), rootfs, markers, "exec sleep 100000"), 0)
		if err != nil {
			b.Fatal(err)
		}
		doms = append(doms, dom)
	}
	api := make([]time.Duration, benchRuns)
	for i := range api {
		start := time.Now()
		recs, err := l.ConnectGetAllDomainStats(nil, 0, 0)
		api[i] = time.Since(start)
		if err != nil || len(recs) != n {
			b.Fatalf("stats of %d domains: %v", len(recs), err)
		}
	}
	uri, virsh := make([]time.Duration, benchRuns), make([]time.Duration, benchRuns)
	for i := range uri {
		uri[i] = timeCmd(b, "virsh", "-c", d.uri(), "uri")
		virsh[i] = timeCmd(b, "virsh", "-c", d.uri(), "domstats")
	}
	b.ReportMetric(float64(median(api))/1e6, "allstats-ms")
	fmt.Printf("\ndomain statistics with %d running containers (medians of %d runs)\n", n, benchRuns)
	fmt.Printf("  %-46s %10s  (target < 50 ms)\n", "CONNECT_GET_ALL_DOMAIN_STATS via go-libvirt", ms(median(api)))
	fmt.Printf("  %-46s %10s  (%s beyond `virsh uri`, %s)\n", "virsh domstats", ms(median(virsh)), ms(median(virsh)-median(uri)), ms(median(uri)))
}
