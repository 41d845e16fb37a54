package rpc

import (
	"errors"
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/nsvirt/nsvirt/driver"
)

// Error domains (virErrorDomain). go-libvirt does not export them.
const (
	fromNone    = 0
	fromRPC     = 7
	fromRemote  = 13
	fromLXC     = 17
	fromNetwork = 19
	fromDomain  = 20
	fromStreams = 38
)

// remoteError is libvirt's remote_error (virNetMessageError), field for
// field; go-libvirt keeps its copy unexported.
type remoteError struct {
	Code    int32
	Domain  int32
	Message libvirt.OptString
	Level   int32
	Dom     libvirt.OptDomain
	Str1    libvirt.OptString
	Str2    libvirt.OptString
	Str3    libvirt.OptString
	Int1    int32
	Int2    int32
	Net     libvirt.OptNetwork
}

// wireErr is an error raised by the RPC layer itself, with its libvirt
// code and the complete message.
type wireErr struct {
	code   libvirt.ErrorNumber
	domain int32
	msg    string
}

func (e *wireErr) Error() string { return e.msg }

func rpcErrorf(code libvirt.ErrorNumber, format string, args ...any) error {
	return &wireErr{code: code, domain: fromRPC, msg: fmt.Sprintf(format, args...)}
}

// unsupported is libvirt's answer to a known procedure the LXC driver does
// not implement.
func unsupported(api string) error {
	return &wireErr{code: libvirt.ErrNoSupport, domain: fromNone,
		msg: "this function is not supported by the connection driver: " + api}
}

// readOnlyDenied is libvirt's answer to a modifying call on a read-only
// connection.
func readOnlyDenied(api string) error {
	return &wireErr{code: libvirt.ErrOperationDenied, domain: fromNone,
		msg: "operation forbidden: read only access prevents " + api}
}

// kindCodes maps driver error kinds to libvirt error numbers, each with
// the message prefix libvirt's virErrorMsg gives that number.
var kindCodes = map[driver.Kind]struct {
	code   libvirt.ErrorNumber
	format string // libvirt's message for the number, around the detail
}{
	driver.KindInternal:             {libvirt.ErrInternalError, "internal error: %s"},
	driver.KindInvalidArg:           {libvirt.ErrInvalidArg, "invalid argument: %s"},
	driver.KindOperationFailed:      {libvirt.ErrOperationFailed, "operation failed: %s"},
	driver.KindXML:                  {libvirt.ErrXMLError, "XML error: %s"},
	driver.KindXMLDetail:            {libvirt.ErrXMLDetail, "%s"},
	driver.KindXMLInvalidSchema:     {libvirt.ErrXMLInvalidSchema, "XML document failed to validate against schema: %s"},
	driver.KindDomainExists:         {libvirt.ErrDomExist, "domain %s exists already"},
	driver.KindOperationDenied:      {libvirt.ErrOperationDenied, "operation forbidden: %s"},
	driver.KindNoDomain:             {libvirt.ErrNoDomain, "Domain not found: %s"},
	driver.KindOperationInvalid:     {libvirt.ErrOperationInvalid, "Requested operation is not valid: %s"},
	driver.KindConfigUnsupported:    {libvirt.ErrConfigUnsupported, "unsupported configuration: %s"},
	driver.KindOperationTimeout:     {libvirt.ErrOperationTimeout, "Timed out during operation: %s"},
	driver.KindArgumentUnsupported:  {libvirt.ErrArgumentUnsupported, "argument unsupported: %s"},
	driver.KindOperationUnsupported: {libvirt.ErrOperationUnsupported, "Operation not supported: %s"},
	driver.KindNoSupport:            {libvirt.ErrNoSupport, "this function is not supported by the connection driver: %s"},
	driver.KindSystem:               {libvirt.ErrSystemError, "%s"},
	driver.KindNoDomainMetadata:     {libvirt.ErrNoDomainMetadata, "metadata not found: %s"},
	driver.KindNoNetwork:            {libvirt.ErrNoNetwork, "Network not found: %s"},
	driver.KindNetworkExists:        {libvirt.ErrNetworkExist, "network %s exists already"},
	driver.KindNoHostname:           {libvirt.ErrNoHostname, "no hostname found: %s"},
	driver.KindNoConnect:            {libvirt.ErrNoConnect, "no connection driver available for %s"},
	driver.KindInvalidMAC:           {libvirt.ErrInvalidMac, "invalid MAC address: %s"},
	driver.KindResourceBusy:         {libvirt.ErrResourceBusy, "resource busy: %s"},
	driver.KindOverflow:             {libvirt.ErrOverflow, "numerical overflow: %s"},
	driver.KindDeviceMissing:        {libvirt.ErrDeviceMissing, "device not found: %s"},
	// For these the parser writes libvirt's whole message.
	driver.KindNoName:   {libvirt.ErrNoName, "%s"},
	driver.KindNoSource: {libvirt.ErrNoSource, "%s"},
	driver.KindNoTarget: {libvirt.ErrNoTarget, "%s"},
}

// toRemoteError is the one place where errors become libvirt error codes
// and messages. Driver errors keep their kind; anything else is an
// internal error.
func toRemoteError(err error) *remoteError {
	code, domain, msg := libvirt.ErrInternalError, int32(fromLXC), "internal error: "+err.Error()
	var we *wireErr
	if errors.As(err, &we) {
		code, domain, msg = we.code, we.domain, we.msg
	} else if k, ok := kindCodes[driver.KindOf(err)]; ok {
		code, msg = k.code, fmt.Sprintf(k.format, err.Error())
		switch driver.KindOf(err) {
		case driver.KindXML, driver.KindXMLDetail, driver.KindXMLInvalidSchema, driver.KindNoName,
			driver.KindNoSource, driver.KindNoTarget:
			domain = fromDomain
		case driver.KindNoNetwork, driver.KindNetworkExists:
			domain = fromNetwork
		}
	}
	return &remoteError{
		Code:    int32(code),
		Domain:  domain,
		Message: libvirt.OptString{msg},
		Level:   2, // VIR_ERR_ERROR
	}
}
