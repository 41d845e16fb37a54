package xmlconf

import (
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
	// ErrNoName is VIR_ERR_NO_NAME: the definition has no <name>.
	ErrNoName
	// ErrOverflow is VIR_ERR_OVERFLOW: a size does not fit.
	ErrOverflow
	// ErrNoSource is VIR_ERR_NO_SOURCE: a device lacks its source.
	ErrNoSource
	// ErrNoTarget is VIR_ERR_NO_TARGET: a device lacks its target.
	ErrNoTarget
	// ErrOperationFailed is VIR_ERR_OPERATION_FAILED (a device request
	// that matches more than one device).
	ErrOperationFailed
	// ErrDeviceMissing is VIR_ERR_DEVICE_MISSING: no device matches a
	// detach or update request.
	ErrDeviceMissing
)

// Error is a problem found in a document.
type Error struct {
	Kind ErrorKind
	Msg  string
	// Items lists, for ErrSchema, every element, attribute or text the
	// schema does not allow, one message each.
	Items []string
}

// Error returns the message, worded as libvirt words it.
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
	// SkipValidate leaves out the checks libvirt makes only when a
	// definition is defined or created (virDomainDefValidate: user
	// namespace maps, CPU bandwidth ranges, duplicate block devices and
	// aliases, ...). libvirt skips them when it loads definitions it saved
	// itself, so that a domain does not vanish when a rule is tightened.
	SkipValidate bool
	// Live reads the definition of a running domain (a status file), as
	// libvirt does without VIR_DOMAIN_DEF_PARSE_INACTIVE: PTY paths, tty
	// attributes, aliases, generated interface names and dynamic security
	// labels are kept instead of dropped, and, as with SkipValidate, the
	// define-time checks are left out.
	Live bool
}

// Domain is a checked and completed domain definition.
type Domain struct {
	// Def is the document model. Code that changes it must keep it valid;
	// Complete re-applies libvirt's defaults.
	Def *libvirtxml.Domain

	// routes holds the route attributes libvirtxml cannot hold (see Route).
	routes routeTable
}

// ParseDomain reads, checks and completes a domain definition as
// libvirt's LXC driver does on define (an inactive definition: a domain
// id, generated interface names and the like are dropped). It refuses
// hostile documents (over MaxDocumentSize, nested deeper than MaxDepth, or
// with entity definitions). It returns, as warnings, the elements and
// attributes it dropped because the schema does not know them or libvirt
// ignores them (with Validate set, the schema ones are an error instead).
func ParseDomain(doc []byte, opts ParseOptions) (*Domain, []string, error) {
	return parseDomain(doc, opts)
}

// Complete checks d and fills in the defaults libvirt adds after parsing
// (UUID, memory units, vcpu, emulator, console targets, filesystem access
// mode, MAC addresses, lifecycle actions, ...), as libvirt's post-parse
// and validation steps for LXC do. It does not choose an architecture
// when there is none: ParseDomain does that, as libvirt's parser does.
// Complete may be called again after changing d.Def.
func Complete(d *Domain, opts ParseOptions) error {
	return complete(d, opts)
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

// FormatDomain writes d as libvirt formats it (virsh dumpxml), byte for
// byte: libvirt's element and attribute order, two-space indentation,
// single quotes, <x/> for empty elements, the lxc: namespace prefix and
// custom metadata as libxml2 writes it.
func FormatDomain(d *Domain, opts FormatOptions) (string, error) {
	return formatDomain(d, opts)
}

// Clone returns an independent deep copy of d.
func (d *Domain) Clone() *Domain {
	return &Domain{Def: cloneDef(d.Def), routes: d.routes.clone()}
}
