package voip

import "context"

// Provider is what a CRM needs from a PBX, in the shape of the ELMA365 VoIP
// module contract. Every vendor client in pbxkit implements it; a vendor that
// lacks an operation returns an error that matches [ErrNotSupported].
//
// Implementations must honour ctx: a cancelled or expired context makes any
// method return an error that matches ctx.Err().
type Provider interface {
	// TestConnection checks that the credentials work, with a cheap read.
	TestConnection(ctx context.Context) error
	// Members lists the PBX users.
	Members(ctx context.Context) ([]Member, error)
	// GenerateCall rings the operator's ext first and, when they pick up,
	// dials phone. It returns the vendor's id of the new call. It is never
	// retried on an ambiguous failure: an error matching [ErrAmbiguous] means
	// the call may be ringing.
	GenerateCall(ctx context.Context, ext, phone string) (callID string, err error)
	// CallLink returns a URL of the recording of c.
	CallLink(ctx context.Context, c Call) (string, error)
}
