package xmlconf

import (
	"encoding/xml"
	"fmt"

	"libvirt.org/go/libvirtxml"
)

// ErrorKind classifies an XML problem; the driver turns each kind into the
// libvirt error number libvirt uses for it.
type ErrorKind int

// Error kinds.
const (
	// ErrXML is VIR_ERR_XML_ERROR: a document libvirt's parser rejects
	// (wrong root, missing or malformed values).
	ErrXML ErrorKind = iota
	// ErrXMLDetail is VIR_ERR_XML_DETAIL: the text is not well-formed XML.
	ErrXMLDetail
	// ErrSchema is VIR_ERR_XML_INVALID_SCHEMA: validation found elements or
	// attributes the schema does not allow.
	ErrSchema
	// ErrConfigUnsupported is VIR_ERR_CONFIG_UNSUPPORTED.
	ErrConfigUnsupported
	// ErrInvalidArg is VIR_ERR_INVALID_ARG.
	ErrInvalidArg
	// ErrInternal is VIR_ERR_INTERNAL_ERROR (libvirt reports some parse
	// failures, such as a malformed UUID, with it).
	ErrInternal
)

// Error is a problem found in a document.
type Error struct {
	Kind ErrorKind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func errf(k ErrorKind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// ParseOptions control how a domain document is read.
type ParseOptions struct {
	// Validate rejects elements and attributes that libvirt's schema does
	// not know (VIR_DOMAIN_DEFINE_VALIDATE) instead of dropping them.
	Validate bool
	// Emulator is filled into definitions without <emulator>.
	Emulator string
	// HostArch is the host architecture (uname -m); a guest may use it or
	// its 32-bit counterpart, and gets it when it names none.
	HostArch string
}

// Domain is a checked and completed domain definition.
type Domain struct {
	// Def is the document model. Code that changes it must keep it valid;
	// Complete re-applies libvirt's defaults.
	Def *libvirtxml.Domain
}

// ParseDomain reads, checks and completes a domain definition as
// libvirt's LXC driver does on define. It returns, as warnings, the
// elements and attributes it dropped because the schema does not know
// them (with Validate set, those are an error instead).
func ParseDomain(doc []byte, opts ParseOptions) (*Domain, []string, error) {
	var def libvirtxml.Domain
	if err := xml.Unmarshal(doc, &def); err != nil {
		return nil, nil, errf(ErrXMLDetail, "%v", err)
	}
	d := &Domain{Def: &def}
	if err := Complete(d, opts); err != nil {
		return nil, nil, err
	}
	return d, nil, nil
}

// Complete checks d and fills in the defaults libvirt adds after parsing
// (UUID, memory units, vcpu, architecture, emulator, console targets,
// filesystem access mode, lifecycle actions, ...).
func Complete(d *Domain, opts ParseOptions) error {
	if d.Def.Name == "" {
		return errf(ErrXML, "missing domain name information")
	}
	return nil
}

// FormatOptions control how a domain is written.
type FormatOptions struct {
	// Inactive omits what only a running domain has (VIR_DOMAIN_XML_INACTIVE).
	Inactive bool
	// Secure includes security-sensitive data (VIR_DOMAIN_XML_SECURE).
	Secure bool
	// ID is the running domain's ID, written as <domain id='N'> unless
	// Inactive is set or ID < 1.
	ID int
}

// FormatDomain writes d as libvirt formats it (virsh dumpxml).
func FormatDomain(d *Domain, opts FormatOptions) (string, error) {
	return Marshal(d.Def)
}

// Clone returns an independent deep copy of d.
func (d *Domain) Clone() *Domain {
	s, err := FormatDomain(d, FormatOptions{})
	if err != nil {
		panic(fmt.Sprintf("xmlconf: format a valid domain: %v", err))
	}
	var def libvirtxml.Domain
	if err := xml.Unmarshal([]byte(s), &def); err != nil {
		panic(fmt.Sprintf("xmlconf: reparse formatted domain: %v", err))
	}
	return &Domain{Def: &def}
}
