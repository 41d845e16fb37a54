package driver

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nsvirt/nsvirt/xmlconf"
)

// The live state of a running domain is kept in STATE_DIR/NAME.xml in
// libvirt's <domstatus> form, extended with what nsvirt needs to take the
// domain over again after a daemon restart:
//
//	<domstatus state='running' reason='booted' pid='MONITOR'>
//	  <init pid='INIT'/>
//	  <nsvirt:runtime xmlns:nsvirt='...'>…</nsvirt:runtime>
//	  <domain type='lxc' id='INIT'>…</domain>
//	</domstatus>

// runtimeNS is the namespace of nsvirt's private status data.
const runtimeNS = "https://nsvirt.dev/xmlns/runtime/1.0"

// statusInfo is the private part of a domain's status.
type statusInfo struct {
	Cgroup    string   `xml:"cgroup,attr"`
	Transient bool     `xml:"transient,attr,omitempty"`
	Loops     []string `xml:"loop"`
	// Net records the container's network links (netns.Plumbing as
	// JSON), and Networks the networks they use.
	Net         string   `xml:"net,omitempty"`
	Networks    []string `xml:"network"`
	Autodestroy bool     `xml:"autodestroy,attr,omitempty"`
}

type domstatus struct {
	XMLName xml.Name `xml:"domstatus"`
	State   string   `xml:"state,attr"`
	Reason  string   `xml:"reason,attr"`
	Pid     int      `xml:"pid,attr"`
	Init    struct {
		Pid int `xml:"pid,attr"`
	} `xml:"init"`
	Runtime statusInfo `xml:"runtime"`
}

var stateNames = map[int]string{
	StateNoState: "nostate", StateRunning: "running", StatePaused: "paused",
	StateShutdown: "shutdown", StateShutoff: "shutoff", StateCrashed: "crashed",
}

// reasonNames are libvirt's reason names, by state.
var reasonNames = map[int]map[int]string{
	StateRunning: {ReasonRunningUnknown: "unknown", ReasonRunningBooted: "booted", ReasonRunningUnpause: "unpaused"},
	StatePaused:  {ReasonPausedUnknown: "unknown", ReasonPausedUser: "user"},
}

func lookupName(m map[int]string, name string) int {
	for k, v := range m {
		if v == name {
			return k
		}
	}
	return 0
}

func (d *Driver) statusPath(name string) string { return filepath.Join(d.cfg.StateDir, name+".xml") }

// saveStatus writes a running domain's status file atomically.
func (d *Driver) saveStatus(dom *domain) error {
	rt := dom.rt
	live, err := xmlconf.FormatDomain(dom.live, xmlconf.FormatOptions{ID: dom.id, Secure: true})
	if err != nil {
		return err
	}
	info := rt.info
	info.Net, info.Networks = plumbingJSON(rt.net), rt.networks
	priv, err := xml.MarshalIndent(struct {
		XMLName xml.Name `xml:"nsvirt:runtime"`
		NS      string   `xml:"xmlns:nsvirt,attr"`
		statusInfo
	}{NS: runtimeNS, statusInfo: info}, "  ", "  ")
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(configHeader(dom.name))
	fmt.Fprintf(&b, "<domstatus state='%s' reason='%s' pid='%d'>\n", stateNames[dom.state],
		reasonNames[dom.state][dom.reason], rt.monitorPid)
	fmt.Fprintf(&b, "  <init pid='%d'/>\n", rt.initPid)
	b.Write(priv)
	b.WriteString("\n")
	for _, line := range strings.SplitAfter(strings.TrimSuffix(live, "\n"), "\n") {
		b.WriteString("  " + line)
	}
	b.WriteString("\n</domstatus>\n")
	return replaceFile(d.statusPath(dom.name), []byte(b.String()), 0o600, false)
}

// savedStatus is a status file read back.
type savedStatus struct {
	state, reason int
	monitorPid    int
	initPid       int
	info          statusInfo
	live          *xmlconf.Domain
}

// loadStatus reads a status file.
func (d *Driver) loadStatus(path string) (*savedStatus, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ds domstatus
	if err := xml.Unmarshal(b, &ds); err != nil {
		return nil, fmt.Errorf("parse status: %w", err)
	}
	text := string(b)
	start, end := strings.Index(text, "<domain "), strings.LastIndex(text, "</domain>")
	if start < 0 || end < start {
		return nil, errors.New("status holds no domain")
	}
	opts := d.parseOptions(false)
	opts.Live, opts.SkipValidate = true, true
	live, _, err := xmlconf.ParseDomain([]byte(text[start:end+len("</domain>")]), opts)
	if err != nil {
		return nil, fmt.Errorf("parse live definition: %w", err)
	}
	st := lookupName(stateNames, ds.State)
	return &savedStatus{
		state: st, reason: lookupName(reasonNames[st], ds.Reason),
		monitorPid: ds.Pid, initPid: ds.Init.Pid, info: ds.Runtime, live: live,
	}, nil
}

// removeStatus deletes every state file of a domain.
func (d *Driver) removeStatus(name string) {
	for _, suffix := range []string{".xml", ".exit", ".sock", ".xml.new", ".exit.new", ".root"} {
		os.Remove(filepath.Join(d.cfg.StateDir, name+suffix))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
