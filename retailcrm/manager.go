package retailcrm

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
)

// ManagerQuery asks for the manager responsible for a client.
type ManagerQuery struct {
	// Phone is the client's number, as retailCRM stores it or in any form
	// it recognises. Required.
	Phone string
	// IgnoreStatus returns the manager even when not free (ignoreStatus=1).
	IgnoreStatus bool
}

// Responsible is the answer of ResponsibleManager.
type Responsible struct {
	// Manager is nil when the client has no responsible manager who is
	// free (logged in, status free, with an extension in the module),
	// unless IgnoreStatus was set.
	Manager *Manager
	// Customer is nil when no customer has the phone.
	Customer *Customer
	// Links are the CRM pages for the phone.
	Links Links
}

// Manager is a CRM user.
type Manager struct {
	ID                                     int64
	FirstName, LastName, Patronymic, Email string
	// Code is the user's extension in the module.
	Code string
}

// Customer is the customer with the phone.
type Customer struct {
	ID                                                 int64
	ExternalID, FirstName, LastName, Patronymic, Email string
	Phones                                             []string
}

// Links are CRM pages: a new order for the phone, the customer's last
// order, a new customer, the customer.
type Links struct {
	NewOrderLink, LastOrderLink, NewCustomerLink, CustomerLink string
}

type managerWire struct {
	ID         lenient.Int64  `json:"id"`
	FirstName  lenient.String `json:"firstName"`
	LastName   lenient.String `json:"lastName"`
	Patronymic lenient.String `json:"patronymic"`
	Email      lenient.String `json:"email"`
	Code       lenient.String `json:"code"`
}

type customerWire struct {
	ID         lenient.Int64  `json:"id"`
	ExternalID lenient.String `json:"externalId"`
	FirstName  lenient.String `json:"firstName"`
	LastName   lenient.String `json:"lastName"`
	Patronymic lenient.String `json:"patronymic"`
	Email      lenient.String `json:"email"`
	Phones     []struct {
		Number lenient.String `json:"number"`
	} `json:"phones"`
}

type linksWire struct {
	NewOrderLink    lenient.String `json:"newOrderLink"`
	LastOrderLink   lenient.String `json:"lastOrderLink"`
	NewCustomerLink lenient.String `json:"newCustomerLink"`
	CustomerLink    lenient.String `json:"customerLink"`
}

// ResponsibleManager finds the client with the phone and the manager
// responsible for them, for routing an incoming call
// (GET telephony/manager?phone=…&details=1; details=1 brings the customer
// and the links). Ids are read as numbers or strings.
func (c *Client) ResponsibleManager(ctx context.Context, q ManagerQuery) (*Responsible, error) {
	phone := strings.TrimSpace(q.Phone)
	if phone == "" {
		return nil, argError("ResponsibleManager", "Phone", errors.New("empty"))
	}
	query := url.Values{"phone": {phone}, "details": {"1"}}
	if q.IgnoreStatus {
		query.Set("ignoreStatus", "1")
	}
	resp, err := c.do(ctx, &rest.Request{Method: http.MethodGet, Path: "telephony/manager", Query: query})
	if err != nil {
		return nil, err
	}
	var r struct {
		envelope
		Manager  object[managerWire]  `json:"manager"`
		Customer object[customerWire] `json:"customer"`
		Links    object[linksWire]    `json:"links"`
	}
	if err := c.decode(resp, &r); err != nil {
		return nil, err
	}
	out := &Responsible{}
	if m := r.Manager.V; r.Manager.Set {
		out.Manager = &Manager{ID: int64(m.ID), FirstName: string(m.FirstName), LastName: string(m.LastName),
			Patronymic: string(m.Patronymic), Email: string(m.Email), Code: string(m.Code)}
	}
	if cu := r.Customer.V; r.Customer.Set {
		out.Customer = &Customer{ID: int64(cu.ID), ExternalID: string(cu.ExternalID), FirstName: string(cu.FirstName),
			LastName: string(cu.LastName), Patronymic: string(cu.Patronymic), Email: string(cu.Email)}
		for _, p := range cu.Phones {
			if p.Number != "" {
				out.Customer.Phones = append(out.Customer.Phones, string(p.Number))
			}
		}
	}
	l := r.Links.V
	out.Links = Links{NewOrderLink: string(l.NewOrderLink), LastOrderLink: string(l.LastOrderLink),
		NewCustomerLink: string(l.NewCustomerLink), CustomerLink: string(l.CustomerLink)}
	return out, nil
}
