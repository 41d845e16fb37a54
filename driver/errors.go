package driver

import (
	"errors"
	"fmt"
)

// Kind classifies a driver error. The RPC layer maps each kind to one
// libvirt error number in a single place; nothing else in the driver knows
// wire codes.
type Kind int

// Error kinds, named after the libvirt error each becomes.
const (
	KindInternal             Kind = iota // VIR_ERR_INTERNAL_ERROR
	KindInvalidArg                       // VIR_ERR_INVALID_ARG
	KindOperationFailed                  // VIR_ERR_OPERATION_FAILED
	KindXML                              // VIR_ERR_XML_ERROR
	KindXMLDetail                        // VIR_ERR_XML_DETAIL (parser errors)
	KindXMLInvalidSchema                 // VIR_ERR_XML_INVALID_SCHEMA
	KindDomainExists                     // VIR_ERR_DOM_EXIST
	KindOperationDenied                  // VIR_ERR_OPERATION_DENIED
	KindNoDomain                         // VIR_ERR_NO_DOMAIN
	KindOperationInvalid                 // VIR_ERR_OPERATION_INVALID
	KindConfigUnsupported                // VIR_ERR_CONFIG_UNSUPPORTED
	KindOperationTimeout                 // VIR_ERR_OPERATION_TIMEOUT
	KindArgumentUnsupported              // VIR_ERR_ARGUMENT_UNSUPPORTED
	KindOperationUnsupported             // VIR_ERR_OPERATION_UNSUPPORTED
	KindNoSupport                        // VIR_ERR_NO_SUPPORT
	KindSystem                           // VIR_ERR_SYSTEM_ERROR
	KindNoDomainMetadata                 // VIR_ERR_NO_DOMAIN_METADATA
	KindNoNetwork                        // VIR_ERR_NO_NETWORK
	KindNetworkExists                    // VIR_ERR_NETWORK_EXIST
	KindNoHostname                       // VIR_ERR_NO_HOSTNAME
	KindNoConnect                        // VIR_ERR_NO_CONNECT
	KindInvalidMAC                       // VIR_ERR_INVALID_MAC
	KindResourceBusy                     // VIR_ERR_RESOURCE_BUSY
	KindNoName                           // VIR_ERR_NO_NAME
	KindOverflow                         // VIR_ERR_OVERFLOW
	KindNoSource                         // VIR_ERR_NO_SOURCE
	KindNoTarget                         // VIR_ERR_NO_TARGET
	KindDeviceMissing                    // VIR_ERR_DEVICE_MISSING
)

// Error is a driver failure of a known kind. Msg is the detail libvirt
// prints after its per-kind prefix ("Domain not found: <Msg>").
type Error struct {
	Kind Kind
	Msg  string
	Err  error // the underlying cause, if any
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// errorf returns an *Error of kind k. A %w verb in format records its
// argument as the cause.
func errorf(k Kind, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: k, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// KindOf returns the kind of the first *Error in err's chain, or
// KindInternal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
