package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// countingWriter counts bytes and notes when a target is reached.
type countingWriter struct {
	n      atomic.Int64
	target int64
	done   chan struct{}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.n.Add(int64(len(p))) >= w.target && w.target > 0 {
		select {
		case <-w.done:
		default:
			close(w.done)
		}
	}
	return len(p), nil
}

// BenchmarkInteractive measures console throughput (100 MiB written to
// the console inside a container, received through go-libvirt's console
// stream) and `virsh lxc-enter-namespace -- /bin/true` next to `virsh
// uri`. Run it with -benchtime 1x (make bench does).
func BenchmarkInteractive(b *testing.B) {
	const size = 100 << 20
	rootfs := busyboxRootfs(b)
	d := startDaemon(b)
	markers := markerDir(b)
	l := goClient(b, d.socket)
	defer l.Disconnect()
	init := fmt.Sprintf("while [ ! -e /markers/go ]; do sleep 0.02; done; head -c %d /dev/zero > /dev/console; exec sleep 100000", size)
	dom, err := l.DomainCreateXML(benchXML("cons1", rootfs, markers, init), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer l.DomainDestroy(dom)
	w := &countingWriter{target: size, done: make(chan struct{})}
	go l.DomainOpenConsole(dom, nil, w, 0)
	time.Sleep(200 * time.Millisecond) // the stream is attached
	start := time.Now()
	if err := os.WriteFile(filepath.Join(markers, "go"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(120 * time.Second):
		b.Fatalf("only %d bytes of console output arrived", w.n.Load())
	}
	elapsed := time.Since(start)
	rate := float64(size) / (1 << 20) / elapsed.Seconds()

	enterDom, err := l.DomainCreateXML(benchXML("enter1", rootfs, markers, "exec sleep 100000"), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer l.DomainDestroy(enterDom)
	uri, enter := make([]time.Duration, benchRuns), make([]time.Duration, benchRuns)
	for i := range uri {
		uri[i] = timeCmd(b, "virsh", "-c", d.uri(), "uri")
		enter[i] = timeCmd(b, "virsh", "-c", d.uri(), "lxc-enter-namespace", "enter1", "--noseclabel", "--", "/bin/true")
	}
	b.ReportMetric(rate, "console-MiB/s")
	fmt.Printf("\ninteractive benchmark (medians of %d runs)\n", benchRuns)
	fmt.Printf("  %-46s %7.1f MiB/s  (100 MiB in %s; target >= 50 MiB/s)\n", "console output through the stream", rate, ms(elapsed))
	fmt.Printf("  %-46s %10s\n", "virsh uri (client floor)", ms(median(uri)))
	fmt.Printf("  %-46s %10s  %.2fx virsh uri (target <= 1.5x)\n", "virsh lxc-enter-namespace -- /bin/true", ms(median(enter)),
		float64(median(enter))/float64(median(uri)))
}
