package cgroups

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// v1IOFiles are the pairs of v1 files (bytes, requests) that count a
// group's block I/O, in order of preference within a kind: the recursive
// ones include the group's children.
var v1IOFiles = map[string][][2]string{
	"throttle": {
		{"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive"},
		{"blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced"},
	},
	"bfq": {
		{"blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive"},
		{"blkio.bfq.io_service_bytes", "blkio.bfq.io_serviced"},
	},
}

// blkioUsage reads block I/O per device.
func (g *Group) blkioUsage(r *statReader, u *Usage) error {
	dir, v2 := g.statDir("blkio")
	var devs map[[2]uint64]*DeviceIO
	var err error
	if v2 {
		devs, err = r.ioStat(dir)
	} else {
		devs, err = r.blkioV1(dir)
	}
	if err != nil {
		return err
	}
	for _, d := range devs {
		u.Block = append(u.Block, *d)
	}
	sort.Slice(u.Block, func(i, j int) bool {
		a, b := u.Block[i], u.Block[j]
		return a.Major < b.Major || a.Major == b.Major && a.Minor < b.Minor
	})
	return nil
}

// blkioV1 reads the throttling layer's counts, or BFQ's when those are
// empty (some kernels count at the throttling layer only for groups with
// a limit).
func (r *statReader) blkioV1(dir string) (map[[2]uint64]*DeviceIO, error) {
	devs, err := r.blkioV1Kind(dir, v1IOFiles["throttle"])
	if err != nil || !ioEmpty(devs) {
		return devs, err
	}
	bfq, err := r.blkioV1Kind(dir, v1IOFiles["bfq"])
	if err != nil || ioEmpty(bfq) {
		return devs, err
	}
	return bfq, nil
}

// blkioV1Kind reads the first pair of files that exists.
func (r *statReader) blkioV1Kind(dir string, pairs [][2]string) (map[[2]uint64]*DeviceIO, error) {
	for _, p := range pairs {
		if dir == "" || !fileExists(dir, p[0]) {
			continue
		}
		devs := map[[2]uint64]*DeviceIO{}
		if err := r.blkioV1File(dir, p[0], devs, func(b *DeviceIO) (*uint64, *uint64) { return &b.ReadBytes, &b.WriteBytes }); err != nil {
			return nil, err
		}
		if err := r.blkioV1File(dir, p[1], devs, func(b *DeviceIO) (*uint64, *uint64) { return &b.ReadOps, &b.WriteOps }); err != nil {
			return nil, err
		}
		return devs, nil
	}
	_, _, err := r.file(dir, pairs[len(pairs)-1][0]) // note the missing file
	return nil, err
}

// blkioV1File adds the Read and Write lines ("MAJ:MIN Read N") of a v1
// file to devs, in the fields that field picks.
func (r *statReader) blkioV1File(dir, name string, devs map[[2]uint64]*DeviceIO, field func(*DeviceIO) (*uint64, *uint64)) error {
	s, ok, err := r.file(dir, name)
	if !ok {
		return err
	}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "Total" {
			continue
		}
		if len(f) != 3 {
			return fmt.Errorf("parse %s: malformed line %q", filepath.Join(dir, name), line)
		}
		d, err := device(devs, f[0])
		v, err2 := strconv.ParseUint(f[2], 10, 64)
		if err != nil || err2 != nil {
			return fmt.Errorf("parse %s: malformed line %q", filepath.Join(dir, name), line)
		}
		read, write := field(d)
		switch f[1] {
		case "Read":
			*read += v
		case "Write":
			*write += v
		}
	}
	return nil
}

// ioStat reads v2's io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ...".
func (r *statReader) ioStat(dir string) (map[[2]uint64]*DeviceIO, error) {
	s, ok, err := r.file(dir, "io.stat")
	if !ok {
		return nil, err
	}
	devs := map[[2]uint64]*DeviceIO{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		d, err := device(devs, f[0])
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, "io.stat"), err)
		}
		fields := map[string]*uint64{"rbytes": &d.ReadBytes, "wbytes": &d.WriteBytes, "rios": &d.ReadOps, "wios": &d.WriteOps}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			if p := fields[k]; p != nil {
				if *p, err = strconv.ParseUint(v, 10, 64); err != nil {
					return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, "io.stat"), err)
				}
			}
		}
	}
	return devs, nil
}

// device returns the entry of devs for "MAJ:MIN", adding it if new.
func device(devs map[[2]uint64]*DeviceIO, s string) (*DeviceIO, error) {
	a, b, ok := strings.Cut(s, ":")
	major, err1 := strconv.ParseUint(a, 10, 64)
	minor, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("bad device number %q", s)
	}
	k := [2]uint64{major, minor}
	if devs[k] == nil {
		devs[k] = &DeviceIO{Major: major, Minor: minor}
	}
	return devs[k], nil
}

// ioEmpty reports whether devs counts no I/O at all.
func ioEmpty(devs map[[2]uint64]*DeviceIO) bool {
	for _, d := range devs {
		if d.ReadBytes|d.WriteBytes|d.ReadOps|d.WriteOps != 0 {
			return false
		}
	}
	return true
}
