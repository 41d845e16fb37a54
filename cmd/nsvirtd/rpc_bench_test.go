package main

import (
	"net/url"
	"sync"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

func goClient(tb testing.TB, socket string) *libvirt.Libvirt {
	tb.Helper()
	u, _ := url.Parse("lxc+unix:///system?socket=" + socket)
	l, err := libvirt.ConnectToURI(u)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	return l
}

// BenchmarkRPCNodeGetInfo measures the round trip of a cheap call
// (NODE_GET_INFO) through go-libvirt, from 1 and from 8 concurrent
// clients, and reports calls per second.
func BenchmarkRPCNodeGetInfo(b *testing.B) {
	d := startDaemon(b)
	for _, clients := range []int{1, 8} {
		b.Run(clientsName(clients), func(b *testing.B) {
			ls := make([]*libvirt.Libvirt, clients)
			for i := range ls {
				ls[i] = goClient(b, d.socket)
				defer ls[i].Disconnect()
			}
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			per := b.N / clients
			for _, l := range ls {
				wg.Add(1)
				go func(l *libvirt.Libvirt) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						if _, _, _, _, _, _, _, _, err := l.NodeGetInfo(); err != nil {
							b.Error(err)
							return
						}
					}
				}(l)
			}
			wg.Wait()
			b.ReportMetric(float64(per*clients)/time.Since(start).Seconds(), "calls/s")
		})
	}
}

func clientsName(n int) string {
	if n == 1 {
		return "1client"
	}
	return string(rune('0'+n)) + "clients"
}
