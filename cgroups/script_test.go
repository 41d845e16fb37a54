package cgroups

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// access is one expected access to a scripted file.
type access struct {
	file  string // the file's path
	read  bool   // the code under test reads it ...
	serve string // ... and gets this,
	write string // or it writes this
}

// script stands in for cgroup files the code under test writes more
// than once, or reads between writes: each is a FIFO, and a goroutine
// takes part in the accesses in the order the script lists them. As a
// FIFO's open blocks until both ends are there, a read, or the first of
// a run of writes to one file, made out of order stalls the script and
// the code under test instead of passing.
type script struct {
	t     *testing.T
	steps []access
	at    atomic.Int32 // the step under way
	done  chan struct{}
	errs  []string
}

// startScript turns the steps' files into FIFOs and starts answering.
func startScript(t *testing.T, steps []access) *script {
	t.Helper()
	for _, st := range steps {
		os.Remove(st.file)
		if err := unix.Mkfifo(st.file, 0o600); err != nil && !errors.Is(err, unix.EEXIST) {
			t.Fatalf("mkfifo %s: %v", st.file, err)
		}
	}
	s := &script{t: t, steps: steps, done: make(chan struct{})}
	go s.run()
	return s
}

func (s *script) run() {
	defer close(s.done)
	for i := 0; i < len(s.steps); {
		s.at.Store(int32(i))
		st := s.steps[i]
		if st.read {
			s.serve(st)
			i++
			continue
		}
		n := 1 // the run of writes to one file starting here
		for i+n < len(s.steps) && !s.steps[i+n].read && s.steps[i+n].file == st.file {
			n++
		}
		if !s.take(i, s.steps[i:i+n]) {
			return
		}
		i += n
	}
}

// serve answers a read. Two reads of one file in a row are not
// supported: the second answer could reach the first reader.
func (s *script) serve(st access) {
	f, err := os.OpenFile(st.file, os.O_WRONLY, 0)
	if err != nil {
		s.fail("open %s: %v", st.file, err)
		return
	}
	if _, err := f.WriteString(st.serve); err != nil {
		s.fail("answer read of %s: %v", st.file, err)
	}
	f.Close()
}

// take checks a run of writes to one file. Its open waits for the first
// writer; then a write end of its own keeps the FIFO from reporting end
// of file between the writer's opens, so the writes arrive in one
// stream. Once they are in, what else the writer sends before it closes
// is an unexpected write.
func (s *script) take(first int, run []access) bool {
	file := run[0].file
	r, err := os.OpenFile(file, os.O_RDONLY, 0)
	if err != nil {
		s.fail("open %s: %v", file, err)
		return false
	}
	defer r.Close()
	w, err := os.OpenFile(file, os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		s.fail("open %s for writing: %v", file, err)
		return false
	}
	for i, st := range run {
		s.at.Store(int32(first + i))
		buf := make([]byte, len(st.write))
		n, err := io.ReadFull(r, buf)
		if err != nil || string(buf[:n]) != st.write {
			s.fail("%s: got %q (%v), want write %q", file, buf[:n], err, st.write)
		}
	}
	w.Close()
	if rest, _ := io.ReadAll(r); len(rest) > 0 {
		s.fail("%s: unexpected write %q", file, rest)
	}
	return true
}

func (s *script) fail(format string, args ...any) {
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

// finish waits for the script to end and reports what went wrong.
func (s *script) finish() {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		st := s.steps[s.at.Load()]
		s.t.Errorf("script stalled at step %d: %s (read %v, write %q): the code under test did something else", s.at.Load(), st.file, st.read, st.write)
		s.abort()
		return
	}
	for _, e := range s.errs {
		s.t.Error(e)
	}
}

// abort frees whoever is blocked opening a FIFO: an O_RDWR open never
// blocks and counts as both ends.
func (s *script) abort() {
	for _, st := range s.steps {
		if fd, err := unix.Open(st.file, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
			unix.Close(fd)
		}
	}
}

// runScripted runs fn while s answers, failing the test if fn stalls.
func runScripted(t *testing.T, s *script, fn func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- fn() }()
	select {
	case err := <-errc:
		s.finish()
		return err
	case <-time.After(10 * time.Second):
		s.abort()
		s.finish()
		t.Fatal("the code under test stalled on a scripted file")
		return nil
	}
}
