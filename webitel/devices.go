package webitel

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
)

// Device is a SIP or WebRTC phone of the directory (protos
// webitel-go/devices.proto). Password is the SIP password: it is sent on
// create and update and read back as the API returns it.
type Device struct {
	ID, Name, Account, Password string
	// User is the user the device belongs to, if any.
	User *Lookup
	// LoggedIn is when the device last logged in; zero when never.
	LoggedIn, CreatedAt, UpdatedAt time.Time
	CreatedBy, UpdatedBy           *Lookup
	Hotdesk                        bool
	Brand, Model, MAC, IP          string
	// Registered is the API's reged: a live SIP registration exists.
	Registered bool
}

type wireDevice struct {
	ID        lenient.String `json:"id"`
	Name      lenient.String `json:"name"`
	Account   lenient.String `json:"account"`
	Password  lenient.String `json:"password"`
	User      *wireLookup    `json:"user"`
	LoggedIn  lenient.Time   `json:"logged_in"`
	CreatedAt lenient.Time   `json:"created_at"`
	UpdatedAt lenient.Time   `json:"updated_at"`
	CreatedBy *wireLookup    `json:"created_by"`
	UpdatedBy *wireLookup    `json:"updated_by"`
	Hotdesk   wireBool       `json:"hotdesk"`
	Brand     lenient.String `json:"brand"`
	Model     lenient.String `json:"model"`
	MAC       lenient.String `json:"mac"`
	IP        lenient.String `json:"ip"`
	Reged     wireBool       `json:"reged"`
}

func (w *wireDevice) key() string { return string(w.ID) }

func (w *wireDevice) device() (Device, error) {
	return Device{
		ID: string(w.ID), Name: string(w.Name), Account: string(w.Account), Password: string(w.Password),
		User: w.User.lookup(), LoggedIn: w.LoggedIn.Time, CreatedAt: w.CreatedAt.Time, UpdatedAt: w.UpdatedAt.Time,
		CreatedBy: w.CreatedBy.lookup(), UpdatedBy: w.UpdatedBy.lookup(), Hotdesk: bool(w.Hotdesk),
		Brand: string(w.Brand), Model: string(w.Model), MAC: string(w.MAC), IP: string(w.IP), Registered: bool(w.Reged),
	}, nil
}

// sendDevice is a Device as the API takes it: int64 ids as strings,
// read-only fields left out.
type sendDevice struct {
	ID       string      `json:"id,omitempty"`
	Name     string      `json:"name,omitempty"`
	Account  string      `json:"account,omitempty"`
	Password string      `json:"password,omitempty"`
	User     *sendLookup `json:"user,omitempty"`
	Hotdesk  bool        `json:"hotdesk,omitempty"`
	Brand    string      `json:"brand,omitempty"`
	Model    string      `json:"model,omitempty"`
	MAC      string      `json:"mac,omitempty"`
	IP       string      `json:"ip,omitempty"`
}

func (d Device) send() sendDevice {
	return sendDevice{ID: d.ID, Name: d.Name, Account: d.Account, Password: d.Password, User: toSend(d.User),
		Hotdesk: d.Hotdesk, Brand: d.Brand, Model: d.Model, MAC: d.MAC, IP: d.IP}
}

// deviceKeys are the wrappers a device answer may come in.
var deviceKeys = []string{"device", "updated"}

// CreateDevice creates a device (POST /api/devices) and returns it as
// Webitel stored it, with its new ID. Account (the SIP user name) is
// required; an empty one is a *voip.ArgError and nothing is sent. Its
// password is hidden from every later error and log line of the client.
// The answer is read bare (as the seed article shows it) or wrapped in
// {"device":…} (as the proto says).
func (c *Client) CreateDevice(ctx context.Context, d Device) (*Device, error) {
	if strings.TrimSpace(d.Account) == "" {
		return nil, argError("CreateDevice", "Device.Account", errEmpty)
	}
	if d.Password != "" {
		c.conceal(d.Password)
	}
	d.ID = ""
	resp, err := c.do(ctx, http.MethodPost, "devices", nil, d.send(), rest.ByMethod)
	if err != nil {
		return nil, err
	}
	return readDevice(resp)
}

func readDevice(resp *rest.Response) (*Device, error) {
	var w wireDevice
	if err := decodeOne(resp, &w, deviceKeys...); err != nil {
		return nil, err
	}
	d, _ := w.device()
	return &d, nil
}

// Device reads one device (GET /api/devices/{id}); the answer may be
// wrapped in {"device":…} or bare. An unknown id matches voip.ErrNotFound.
func (c *Client) Device(ctx context.Context, id string) (*Device, error) {
	return onEntity(ctx, c, http.MethodGet, "Device", "id", "devices", id, nil, readDevice)
}

// UpdateDevice replaces device d.ID with d (PUT /api/devices/{id}) and
// returns the stored device.
func (c *Client) UpdateDevice(ctx context.Context, d Device) (*Device, error) {
	if d.Password != "" {
		c.conceal(d.Password)
	}
	return onEntity(ctx, c, http.MethodPut, "UpdateDevice", "Device.ID", "devices", d.ID, d.send(), readDevice)
}

// DeleteDevice deletes a device (DELETE /api/devices/{id}).
func (c *Client) DeleteDevice(ctx context.Context, id string) error {
	_, err := onEntity(ctx, c, http.MethodDelete, "DeleteDevice", "id", "devices", id, nil, ignoreAnswer)
	return err
}

// DeviceQuery selects devices; every field is optional.
type DeviceQuery struct {
	// Q matches name, account, hotdesk, brand, model, MAC and IP; "*" is a
	// wildcard.
	Q string
	// UserID keeps the devices of one user.
	UserID string
	// PageSize is the size of each request, 1..MaxPageSize; 0 is
	// DefaultPageSize.
	PageSize int
}

// Devices iterates over the devices (GET /api/devices), a page per
// request. A query it refuses is a *voip.ArgError, yielded before anything
// is sent; the iteration ends after any error.
func (c *Client) Devices(ctx context.Context, q DeviceQuery) iter.Seq2[Device, error] {
	size, err := checkSize("Devices", "DeviceQuery.PageSize", q.PageSize)
	if err != nil {
		return failedSeq[Device](err)
	}
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.UserID != "" {
		v.Set("user.id", q.UserID)
	}
	return pages(ctx, c, "devices", v, size, (*wireDevice).device)
}

// failedSeq is an iterator that yields err alone.
func failedSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
