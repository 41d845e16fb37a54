package driver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nsvirt/nsvirt/xmlconf"
)

// Network files, where libvirt's network driver keeps them:
//
//	NETWORK_DIR/NAME.xml                 persistent definition (0600)
//	NETWORK_DIR/autostart/NAME.xml       symlink to it when autostarted
//	STATE_DIR/network/NAME.xml           <networkstatus> of a running network
//	STATE_DIR/network/dnsmasq/ESCAPED/   dnsmasq's files (see dnsmasqDir)

func (r *networks) configPath(name string) string { return filepath.Join(r.dir, name+".xml") }

func (r *networks) autostartPath(name string) string {
	return filepath.Join(r.dir, "autostart", name+".xml")
}

func (r *networks) statusPath(name string) string { return filepath.Join(r.stateDir, name+".xml") }

// networkHeader is the warning libvirt writes at the top of the network
// files it manages.
func networkHeader(name string) string {
	return strings.Replace(configHeader(name), "virsh edit ", "virsh net-edit ", 1)
}

// saveConfig writes the persistent definition of a network atomically.
func (r *networks) saveConfig(def *xmlconf.Network) error {
	text, err := xmlconf.FormatNetwork(def, xmlconf.NetworkFormatOptions{Inactive: true})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", r.dir, err)
	}
	name := def.Def.Name
	return writeFileAtomic(r.configPath(name), []byte(networkHeader(name)+text), 0o600)
}

// removeConfig removes a network's definition and autostart link.
func (r *networks) removeConfig(name string) error {
	for _, p := range []string{r.autostartPath(name), r.configPath(name)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return syncDir(r.dir)
}

// setAutostart creates or removes a network's autostart link.
func (r *networks) setAutostart(name string, on bool) error {
	link := r.autostartPath(name)
	if !on {
		if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove autostart link %s: %w", link, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		return fmt.Errorf("create autostart directory: %w", err)
	}
	if err := os.Symlink(r.configPath(name), link); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create autostart link %s: %w", link, err)
	}
	return syncDir(filepath.Dir(link))
}

func (r *networks) autostartSet(name string) bool {
	_, err := os.Lstat(r.autostartPath(name))
	return err == nil
}

// saveStatus writes the status file of a running network: its live
// definition inside libvirt's <networkstatus> element.
func (r *networks) saveStatus(live *xmlconf.Network) error {
	text, err := xmlconf.FormatNetwork(live, xmlconf.NetworkFormatOptions{})
	if err != nil {
		return err
	}
	var b strings.Builder
	name := live.Def.Name
	b.WriteString(networkHeader(name))
	b.WriteString("<networkstatus>\n  <class_id bitmap='0-2'/>\n  <floor sum='0'/>\n")
	for _, line := range strings.SplitAfter(text, "\n") {
		if line != "" {
			b.WriteString("  " + line)
		}
	}
	b.WriteString("</networkstatus>\n")
	return replaceFile(r.statusPath(name), []byte(b.String()), 0o600, false)
}

func (r *networks) removeStatus(name string) error {
	if err := os.Remove(r.statusPath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// readStatus reads the live definition back from a status file.
func readStatus(path string) (*xmlconf.Network, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := string(b)
	start := strings.Index(text, "<network>")
	if i := strings.Index(text, "<network "); i >= 0 && (start < 0 || i < start) {
		start = i
	}
	end := strings.LastIndex(text, "</network>")
	if start < 0 || end < start {
		return nil, errors.New("no <network> element in status file")
	}
	def, _, err := xmlconf.ParseNetwork([]byte(text[start:end+len("</network>")]), xmlconf.NetworkParseOptions{})
	if err != nil {
		return nil, err
	}
	if want := strings.TrimSuffix(filepath.Base(path), ".xml"); def.Def.Name != want {
		return nil, fmt.Errorf("status file name does not match network name %q", def.Def.Name)
	}
	return def, nil
}

// storedNetwork is a definition found in NETWORK_DIR.
type storedNetwork struct {
	def       *xmlconf.Network
	autostart bool
}

// loadNetworkConfigs reads every definition in NETWORK_DIR. A file that cannot be
// used is logged with its reason and skipped. A definition that lacked a
// UUID or bridge MAC address gets one generated and is saved again, as
// libvirt does, so that it keeps them across restarts.
func (d *Driver) loadNetworkConfigs() []storedNetwork {
	r := &d.nets
	paths, err := filepath.Glob(filepath.Join(r.dir, "*.xml"))
	if err != nil {
		d.log.Error("list network definitions", "dir", r.dir, "err", err)
		return nil
	}
	var out []storedNetwork
	for _, p := range paths {
		def, err := d.loadNetworkConfig(p)
		if err != nil {
			d.log.Error("skipping unusable network definition", "path", p, "err", err)
			continue
		}
		out = append(out, storedNetwork{def: def, autostart: r.autostartSet(def.Def.Name)})
	}
	return out
}

func (d *Driver) loadNetworkConfig(path string) (*xmlconf.Network, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rnd := &readCounter{r: rand.Reader}
	def, warnings, err := xmlconf.ParseNetwork(b, xmlconf.NetworkParseOptions{Rand: rnd, UsedBridges: d.usedBridges("")})
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		d.log.Warn("network definition has content libvirt's schema does not know; it is ignored", "path", path, "detail", w)
	}
	if want := strings.TrimSuffix(filepath.Base(path), ".xml"); def.Def.Name != want {
		return nil, fmt.Errorf("network config file name does not match network name %q", def.Def.Name)
	}
	if rnd.n > 0 {
		if err := d.nets.saveConfig(def); err != nil {
			return nil, fmt.Errorf("save generated UUID or MAC address: %w", err)
		}
	}
	return def, nil
}

// readCounter counts the bytes read through it: the parser reads random
// bytes only when it generates a UUID or MAC address.
type readCounter struct {
	r io.Reader
	n int
}

// Read implements io.Reader.
func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
