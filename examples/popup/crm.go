package main

import (
	"strings"
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// customer is a client the CRM knows, by phone number in E.164.
type customer struct {
	Name    string
	Phone   string // E.164
	Manager string // the responsible manager's extension
}

// manager is a user of the CRM who takes calls on an extension.
type manager struct {
	Ext  string
	Name string
	Zone *time.Location // where the manager works: the page shows times there
}

// crm is the small in-memory CRM the pop-up reads: customers by phone and
// managers by extension. The PBX's lookups (Phonet's client card,
// Gravitel's contact) are answered from it too. Its methods are safe for
// concurrent use.
type crm struct {
	region string // how national numbers are read: "UA", "RU"
	zone   *time.Location

	mu        sync.RWMutex
	customers map[string]customer // by E.164
	managers  map[string]manager  // by extension
	order     []string            // extensions, as added
}

func newCRM(region string, zone *time.Location) *crm {
	return &crm{region: region, zone: zone, customers: map[string]customer{}, managers: map[string]manager{}}
}

// addCustomer stores c under its phone in E.164; a number that does not
// read is stored as typed.
func (c *crm) addCustomer(cu customer) {
	cu.Phone = voip.Party(cu.Phone, c.region)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.customers[cu.Phone] = cu
}

// addManager stores m; a nil Zone is the CRM's default zone.
func (c *crm) addManager(m manager) {
	m.Ext = strings.TrimSpace(m.Ext)
	if m.Zone == nil {
		m.Zone = c.zone
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.managers[m.Ext]; !ok {
		c.order = append(c.order, m.Ext)
	}
	c.managers[m.Ext] = m
}

// customer finds who calls from phone, in any spelling NormalizePhone
// reads.
func (c *crm) customer(phone string) (customer, bool) {
	p := voip.Party(phone, c.region)
	c.mu.RLock()
	defer c.mu.RUnlock()
	cu, ok := c.customers[p]
	return cu, ok
}

// manager returns the manager with ext, or one of that extension with the
// default zone when the CRM does not know it.
func (c *crm) manager(ext string) (manager, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.managers[ext]
	if !ok {
		return manager{Ext: ext, Name: ext, Zone: c.zone}, false
	}
	return m, true
}

// managerList returns the managers in the order they were added.
func (c *crm) managerList() []manager {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]manager, 0, len(c.order))
	for _, ext := range c.order {
		out = append(out, c.managers[ext])
	}
	return out
}
