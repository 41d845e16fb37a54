package nat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Forwarding sysctls, as paths below /proc/sys.
const (
	IPv4Forward = "net/ipv4/ip_forward"
	IPv6Forward = "net/ipv6/conf/all/forwarding"
)

// ForwardSysctls returns the sysctls network n needs set to 1 while it is
// active: none unless its mode forwards, then IPv4Forward if it has an
// IPv4 subnet and IPv6Forward if it has an IPv6 one.
func ForwardSysctls(n Network) []string {
	if !n.Mode.Forwards() {
		return nil
	}
	var keys []string
	if slices.ContainsFunc(n.Subnets, func(p netip.Prefix) bool { return p.Addr().Is4() }) {
		keys = append(keys, IPv4Forward)
	}
	if slices.ContainsFunc(n.Subnets, func(p netip.Prefix) bool { return p.Addr().Is6() }) {
		keys = append(keys, IPv6Forward)
	}
	return keys
}

// stateFileName is the file in the state directory that holds, for each
// sysctl this package set, the value found before and the networks that
// hold it.
const stateFileName = "sysctl-forwarding.json"

// Sysctls sets forwarding sysctls to 1 while at least one network holds
// them, and puts back the value it found when the last one releases them.
// The found values and the holders are kept in a state file, so a daemon
// restarted after a crash still knows what to restore: it calls
// [Sysctls.Holders] and releases the networks that are no longer active.
//
// A Sysctls is safe for concurrent use; only one should exist per state
// directory.
type Sysctls struct {
	root  string
	state string
	mu    sync.Mutex
}

// sysctlEntry is one sysctl in the state file.
type sysctlEntry struct {
	// Original is the value found before the first holder set it.
	Original string `json:"original"`
	// Holders are the networks that need the sysctl set, sorted.
	Holders []string `json:"holders"`
}

// NewSysctls returns a Sysctls that writes sysctls below root ("" means
// /proc/sys) and keeps its state file in stateDir, which must survive a
// daemon restart (a runtime directory such as /run/nsvirt is right: the
// sysctls themselves do not survive a reboot either).
func NewSysctls(root, stateDir string) *Sysctls {
	if root == "" {
		root = "/proc/sys"
	}
	return &Sysctls{root: root, state: filepath.Join(stateDir, stateFileName)}
}

// Acquire makes network name a holder of each sysctl in keys (such as
// [ForwardSysctls] returns) and sets them to 1, recording the previous
// value of those nobody held yet. Acquiring again is harmless. On error,
// the holds this call added are released again.
func (s *Sysctls) Acquire(name string, keys ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return fmt.Errorf("network %q: %w", name, err)
	}
	added, err := s.hold(st, name, keys)
	if err == nil {
		err = s.save(st)
	}
	if err == nil {
		err = s.setAll(keys, "1")
	}
	if err != nil {
		if len(added) > 0 {
			s.releaseKeys(st, name, added)
			s.save(st)
		}
		return fmt.Errorf("network %q: enable forwarding: %w", name, err)
	}
	return nil
}

// hold adds name to the holders of keys in st, reading the original
// values of new entries, and returns the keys name did not hold before.
func (s *Sysctls) hold(st map[string]*sysctlEntry, name string, keys []string) ([]string, error) {
	var added []string
	for _, k := range keys {
		e := st[k]
		if e == nil {
			v, err := s.read(k)
			if err != nil {
				return added, err
			}
			e = &sysctlEntry{Original: v}
			st[k] = e
		}
		if !slices.Contains(e.Holders, name) {
			e.Holders = append(e.Holders, name)
			sort.Strings(e.Holders)
			added = append(added, k)
		}
	}
	return added, nil
}

// Release drops every hold of network name and puts back the original
// value of each sysctl nobody holds any more. Releasing a network that
// holds nothing is not an error.
func (s *Sysctls) Release(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return fmt.Errorf("network %q: %w", name, err)
	}
	var keys []string
	for k, e := range st {
		if slices.Contains(e.Holders, name) || len(e.Holders) == 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	errRestore := s.releaseKeys(st, name, keys)
	if err := s.save(st); err != nil {
		return fmt.Errorf("network %q: %w", name, err)
	}
	if errRestore != nil {
		return fmt.Errorf("network %q: restore forwarding: %w", name, errRestore)
	}
	return nil
}

// releaseKeys removes name from the holders of keys and restores the
// sysctls left without holders. An entry whose restore fails stays, with
// no holders, so that a later Release tries again.
func (s *Sysctls) releaseKeys(st map[string]*sysctlEntry, name string, keys []string) error {
	var errs []error
	for _, k := range keys {
		e := st[k]
		if e == nil {
			continue
		}
		e.Holders = slices.DeleteFunc(e.Holders, func(h string) bool { return h == name })
		if len(e.Holders) > 0 {
			continue
		}
		if err := s.write(k, e.Original); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(st, k)
	}
	return errors.Join(errs...)
}

// Holders returns the networks holding at least one sysctl, sorted.
func (s *Sysctls) Holders() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range st {
		for _, h := range e.Holders {
			if !slices.Contains(names, h) {
				names = append(names, h)
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

func (s *Sysctls) setAll(keys []string, v string) error {
	for _, k := range keys {
		if err := s.write(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sysctls) path(key string) (string, error) {
	clean := filepath.Clean(key)
	if filepath.IsAbs(clean) || clean == "." || strings.HasPrefix(clean, "..") {
		return "", fmt.Errorf("bad sysctl %q", key)
	}
	return filepath.Join(s.root, clean), nil
}

func (s *Sysctls) read(key string) (string, error) {
	p, err := s.path(key)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("read sysctl: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// write stores v in a sysctl. It never creates the file: a missing sysctl
// (IPv6 disabled, say) is an error.
func (s *Sysctls) write(key, v string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("write sysctl: %w", err)
	}
	_, err = f.WriteString(v + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write sysctl %s: %w", p, err)
	}
	return nil
}

// load reads the state file; a missing file is an empty state.
func (s *Sysctls) load() (map[string]*sysctlEntry, error) {
	st := map[string]*sysctlEntry{}
	b, err := os.ReadFile(s.state)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sysctl state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("read sysctl state %s: %w", s.state, err)
	}
	for k, e := range st {
		if e == nil {
			delete(st, k)
		}
	}
	return st, nil
}

// save writes the state file atomically, and removes it when st is empty.
func (s *Sysctls) save(st map[string]*sysctlEntry) error {
	if len(st) == 0 {
		if err := os.Remove(s.state); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove sysctl state: %w", err)
		}
		return nil
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode sysctl state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.state), 0o755); err != nil {
		return fmt.Errorf("write sysctl state: %w", err)
	}
	tmp := s.state + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write sysctl state: %w", err)
	}
	if err := os.Rename(tmp, s.state); err != nil {
		return fmt.Errorf("write sysctl state: %w", err)
	}
	return nil
}
