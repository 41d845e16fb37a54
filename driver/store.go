package driver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nsvirt/nsvirt/xmlconf"
)

// store keeps persistent definitions as libvirt does: CONFIG_DIR/NAME.xml
// (mode 0600) and autostart links in CONFIG_DIR/autostart/NAME.xml.
type store struct {
	dir string
}

func (s store) configPath(name string) string { return filepath.Join(s.dir, name+".xml") }
func (s store) autostartPath(name string) string {
	return filepath.Join(s.dir, "autostart", name+".xml")
}

// configHeader is the warning libvirt writes at the top of every file it
// manages.
func configHeader(name string) string {
	return "<!--\n" +
		"WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n" +
		"OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n" +
		"  virsh edit " + name + "\n" +
		"or other application using the libvirt API.\n" +
		"-->\n\n"
}

// save writes the definition of name atomically.
func (s store) save(name string, def *xmlconf.Domain) error {
	text, err := xmlconf.FormatDomain(def, xmlconf.FormatOptions{Inactive: true, Secure: true})
	if err != nil {
		return err
	}
	return writeFileAtomic(s.configPath(name), []byte(configHeader(name)+text), 0o600)
}

func (s store) remove(name string) error {
	for _, p := range []string{s.autostartPath(name), s.configPath(name)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return syncDir(s.dir)
}

// setAutostart creates or removes the autostart link of name.
func (s store) setAutostart(name string, on bool) error {
	link := s.autostartPath(name)
	if !on {
		if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove autostart link %s: %w", link, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		return fmt.Errorf("create autostart directory: %w", err)
	}
	if err := os.Symlink(s.configPath(name), link); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create autostart link %s: %w", link, err)
	}
	return syncDir(filepath.Dir(link))
}

func (s store) autostart(name string) bool {
	_, err := os.Lstat(s.autostartPath(name))
	return err == nil
}

// storedDomain is a definition found on disk.
type storedDomain struct {
	def       *xmlconf.Domain
	autostart bool
}

// loadConfigs reads every definition in the directory, including ones libvirt
// wrote. A file that cannot be used is logged with its reason and skipped:
// one bad file never stops the daemon.
func (d *Driver) loadConfigs() []storedDomain {
	s := d.store
	paths, err := filepath.Glob(filepath.Join(s.dir, "*.xml"))
	if err != nil {
		d.log.Error("list definitions", "dir", s.dir, "err", err)
		return nil
	}
	var out []storedDomain
	for _, p := range paths {
		def, err := d.loadConfig(p)
		if err != nil {
			d.log.Error("skipping unusable domain definition", "path", p, "err", err)
			continue
		}
		out = append(out, storedDomain{def: def, autostart: s.autostart(def.Def.Name)})
	}
	return out
}

func (d *Driver) loadConfig(path string) (*xmlconf.Domain, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	opts := d.parseOptions(false)
	opts.SkipValidate = true // as libvirt does for definitions it saved
	def, warnings, err := xmlconf.ParseDomain(b, opts)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		d.log.Warn("definition has content libvirt's schema does not know; it is ignored", "path", path, "detail", w)
	}
	if want := strings.TrimSuffix(filepath.Base(path), ".xml"); def.Def.Name != want {
		return nil, fmt.Errorf("file name does not match domain name %q", def.Def.Name)
	}
	return def, nil
}

// writeFileAtomic replaces path with data: it writes path.new, syncs it,
// renames it over path and syncs the directory, so a crash leaves either
// the old or the new file, never a torn one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	return replaceFile(path, data, mode, true)
}

// replaceFile writes path.new and renames it over path; with durable it
// also syncs the file and the directory. Live state files in the state
// directory (a tmpfs, normally) only need the rename: a reader never sees
// a torn file, and nothing of them survives a host crash anyway.
func replaceFile(path string, data []byte, mode os.FileMode, durable bool) (err error) {
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if !durable {
		return nil
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
