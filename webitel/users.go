package webitel

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
)

// User is a user of the directory (protos webitel-go/users.proto). On
// create and update the fields are those of the API's InputUser: Password
// is the login password (never read back), Roles, License and Devices are
// references by ID, Device is the default device.
type User struct {
	ID, Name, Email, Username, Password, Extension string
	Roles, Devices, License                        []Lookup
	Device                                         *Lookup
	ChatName                                       string
	// Profile is the user's free-form variables.
	Profile map[string]string
	// Presence is the presence status the API reports ("dnd", "sip", …).
	Presence             string
	CreatedAt, UpdatedAt time.Time
}

type wireUser struct {
	ID        lenient.String            `json:"id"`
	Name      lenient.String            `json:"name"`
	Email     lenient.String            `json:"email"`
	Username  lenient.String            `json:"username"`
	Extension lenient.String            `json:"extension"`
	ChatName  lenient.String            `json:"chat_name"`
	Roles     []wireLookup              `json:"roles"`
	Devices   []wireLookup              `json:"devices"`
	License   []wireLookup              `json:"license"`
	Device    *wireLookup               `json:"device"`
	Profile   map[string]lenient.String `json:"profile"`
	Presence  *struct {
		Status lenient.String `json:"status"`
	} `json:"presence"`
	CreatedAt lenient.Time `json:"created_at"`
	UpdatedAt lenient.Time `json:"updated_at"`
}

func (w *wireUser) key() string { return string(w.ID) }

func lookups(ws []wireLookup) []Lookup {
	if len(ws) == 0 {
		return nil
	}
	out := make([]Lookup, 0, len(ws))
	for i := range ws {
		if l := ws[i].lookup(); l != nil {
			out = append(out, *l)
		}
	}
	return out
}

func (w *wireUser) user() (User, error) {
	u := User{
		ID: string(w.ID), Name: string(w.Name), Email: string(w.Email), Username: string(w.Username),
		Extension: string(w.Extension), ChatName: string(w.ChatName),
		Roles: lookups(w.Roles), Devices: lookups(w.Devices), License: lookups(w.License), Device: w.Device.lookup(),
		CreatedAt: w.CreatedAt.Time, UpdatedAt: w.UpdatedAt.Time,
	}
	if len(w.Profile) > 0 {
		u.Profile = make(map[string]string, len(w.Profile))
		for k, v := range w.Profile {
			u.Profile[k] = string(v)
		}
	}
	if w.Presence != nil {
		u.Presence = string(w.Presence.Status)
	}
	return u, nil
}

// sendUser is the API's InputUser, as the seed article posts it.
type sendUser struct {
	ID        string            `json:"id,omitempty"`
	Name      string            `json:"name,omitempty"`
	Email     string            `json:"email,omitempty"`
	Username  string            `json:"username,omitempty"`
	Password  string            `json:"password,omitempty"`
	Extension string            `json:"extension,omitempty"`
	ChatName  string            `json:"chat_name,omitempty"`
	Roles     []sendLookup      `json:"roles,omitempty"`
	Devices   []sendLookup      `json:"devices,omitempty"`
	License   []sendLookup      `json:"license,omitempty"`
	Device    *sendLookup       `json:"device,omitempty"`
	Profile   map[string]string `json:"profile,omitempty"`
}

func sendLookups(ls []Lookup) []sendLookup {
	if len(ls) == 0 {
		return nil
	}
	out := make([]sendLookup, len(ls))
	for i, l := range ls {
		out[i] = sendLookup(l)
	}
	return out
}

func (u User) send() sendUser {
	return sendUser{ID: u.ID, Name: u.Name, Email: u.Email, Username: u.Username, Password: u.Password,
		Extension: u.Extension, ChatName: u.ChatName, Roles: sendLookups(u.Roles), Devices: sendLookups(u.Devices),
		License: sendLookups(u.License), Device: toSend(u.Device), Profile: u.Profile}
}

// userKeys are the wrappers a user answer may come in.
var userKeys = []string{"user", "updated"}

func readUser(resp *rest.Response) (*User, error) {
	var w wireUser
	if err := decodeOne(resp, &w, userKeys...); err != nil {
		return nil, err
	}
	u, _ := w.user()
	return &u, nil
}

// CreateUser creates a user (POST /api/users) and returns it with its new
// ID. Username is required; an empty one is a *voip.ArgError and nothing is
// sent. The password is hidden from every later error and log line. A user
// needs a licence to use the socket, and a device to place calls.
func (c *Client) CreateUser(ctx context.Context, u User) (*User, error) {
	if strings.TrimSpace(u.Username) == "" {
		return nil, argError("CreateUser", "User.Username", errEmpty)
	}
	if u.Password != "" {
		c.conceal(u.Password)
	}
	u.ID = ""
	resp, err := c.do(ctx, http.MethodPost, "users", nil, u.send(), rest.ByMethod)
	if err != nil {
		return nil, err
	}
	return readUser(resp)
}

// User reads one user (GET /api/users/{id}).
func (c *Client) User(ctx context.Context, id string) (*User, error) {
	return onEntity(ctx, c, http.MethodGet, "User", "id", "users", id, nil, readUser)
}

// UpdateUser replaces user u.ID with u (PUT /api/users/{id}) and returns
// the stored user.
func (c *Client) UpdateUser(ctx context.Context, u User) (*User, error) {
	if u.Password != "" {
		c.conceal(u.Password)
	}
	return onEntity(ctx, c, http.MethodPut, "UpdateUser", "User.ID", "users", u.ID, u.send(), readUser)
}

// DeleteUser deletes a user (DELETE /api/users/{id}).
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	_, err := onEntity(ctx, c, http.MethodDelete, "DeleteUser", "id", "users", id, nil, ignoreAnswer)
	return err
}

// UserQuery selects users; every field is optional.
type UserQuery struct {
	// Q matches names and numbers; "*" is a wildcard.
	Q string
	// Extension keeps the users of one extension.
	Extension string
	// PageSize is the size of each request, 1..MaxPageSize; 0 is
	// DefaultPageSize.
	PageSize int
}

// Users iterates over the users (GET /api/users), a page per request. A
// query it refuses is a *voip.ArgError, yielded before anything is sent;
// the iteration ends after any error.
func (c *Client) Users(ctx context.Context, q UserQuery) iter.Seq2[User, error] {
	size, err := checkSize("Users", "UserQuery.PageSize", q.PageSize)
	if err != nil {
		return failedSeq[User](err)
	}
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Extension != "" {
		v.Set("extension", q.Extension)
	}
	return pages(ctx, c, "users", v, size, (*wireUser).user)
}

// Provisioning is what [Client.Provision] creates: a device, a user that
// owns it, and an access token for that user.
type Provisioning struct {
	Device Device
	// User is created with Device as its device; give it a licence
	// (License) or it cannot use the socket.
	User User
	// TokenUsage describes the token ("crm-integration"); empty is
	// DefaultTokenUsage.
	TokenUsage string
}

// Provisioned is what the seed article tells an integration to store for
// each user.
type Provisioned struct {
	UserID, DeviceID, Token string
}

// DefaultTokenUsage is the usage of a token Provision makes when
// Provisioning.TokenUsage is empty.
const DefaultTokenUsage = "pbxkit"

// Provision runs the seed article's flow for one user: create the device
// (POST /api/devices), create the user with that device as its device and
// in its devices (POST /api/users), and make the user an access token
// (POST /api/users/{id}/tokens). It is not atomic: when a step fails, the
// returned *Provisioned (never nil then) holds the ids of what was created,
// for the caller to keep or delete, and the error says which step failed.
// The token is hidden from every later error and log line of the client.
func (c *Client) Provision(ctx context.Context, p Provisioning) (*Provisioned, error) {
	if strings.TrimSpace(p.Device.Account) == "" {
		return nil, argError("Provision", "Provisioning.Device.Account", errEmpty)
	}
	if strings.TrimSpace(p.User.Username) == "" {
		return nil, argError("Provision", "Provisioning.User.Username", errEmpty)
	}
	out := &Provisioned{}
	d, err := c.CreateDevice(ctx, p.Device)
	if err != nil {
		return out, fmt.Errorf("webitel: Provision: create the device: %w", err)
	}
	out.DeviceID = d.ID
	if d.ID == "" {
		return out, fmt.Errorf("webitel: Provision: the new device has no id: %w", errNoID)
	}
	u := p.User
	u.Device = &Lookup{ID: d.ID}
	u.Devices = append(append([]Lookup(nil), u.Devices...), Lookup{ID: d.ID})
	nu, err := c.CreateUser(ctx, u)
	if err != nil {
		return out, fmt.Errorf("webitel: Provision: create the user: %w", err)
	}
	out.UserID = nu.ID
	if nu.ID == "" {
		return out, fmt.Errorf("webitel: Provision: the new user has no id: %w", errNoID)
	}
	usage := p.TokenUsage
	if usage == "" {
		usage = DefaultTokenUsage
	}
	t, err := c.AddUserToken(ctx, nu.ID, usage)
	if err != nil {
		return out, fmt.Errorf("webitel: Provision: create the token: %w", err)
	}
	if t.Token == "" {
		return out, fmt.Errorf("webitel: Provision: the new token has no value: %w", errNoID)
	}
	out.Token = t.Token
	return out, nil
}

// errNoID is a creation Webitel acknowledged without the value it made.
var errNoID = errors.New("the answer lacks it")
