package retailcrm_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

// phpManagerFixture is api-client-php's TelephonyTest::testManager answer.
const phpManagerFixture = `{
  "success": true,
  "manager": {"id": 1, "firstName": "John", "lastName": "John", "patronymic": "John", "email": "test@examle.com", "code": "12"},
  "customer": {"id": 1, "externalId": "1", "firstName": "John", "lastName": "John", "patronymic": "John",
      "email": "test@examle.com", "phones": [{"number": "88005553125"}]},
  "links": {"newOrderLink": "https://azgalot.retailcrm.ru/orders/add?phone=88005553125",
    "newCustomerLink": "https://azgalot.retailcrm.ru/customers/add?phone=88005553125"}
}`

func TestResponsibleManager(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, phpManagerFixture))
	res, err := s.client(t).ResponsibleManager(t.Context(), retailcrm.ManagerQuery{Phone: "88005553125", IgnoreStatus: true})
	require.NoError(t, err)
	assert.Equal(t, &retailcrm.Responsible{
		Manager:  &retailcrm.Manager{ID: 1, FirstName: "John", LastName: "John", Patronymic: "John", Email: "test@examle.com", Code: "12"},
		Customer: &retailcrm.Customer{ID: 1, ExternalID: "1", FirstName: "John", LastName: "John", Patronymic: "John", Email: "test@examle.com", Phones: []string{"88005553125"}},
		Links: retailcrm.Links{NewOrderLink: "https://azgalot.retailcrm.ru/orders/add?phone=88005553125",
			NewCustomerLink: "https://azgalot.retailcrm.ru/customers/add?phone=88005553125"},
	}, res)
	r := s.requests()[0]
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/api/v5/telephony/manager", r.Path)
	q, err := url.ParseQuery(r.RawQuery)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"phone": {"88005553125"}, "details": {"1"}, "ignoreStatus": {"1"}}, q)
}

// TestResponsibleManagerNone checks the answers without a free manager:
// the member missing, null or PHP's [], and ids sent as strings.
func TestResponsibleManagerNone(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"success":true}`,
		`{"success":true,"manager":null,"customer":[],"links":[]}`,
		`{"success":true,"manager":[],"customer":{"id":"7","phones":[]},"links":{"customerLink":"https://x/customers/7"}}`,
	} {
		s := newStub(t, reply(http.StatusOK, body))
		res, err := s.client(t).ResponsibleManager(t.Context(), retailcrm.ManagerQuery{Phone: "+79121234567"})
		require.NoError(t, err, body)
		assert.Nil(t, res.Manager, body)
		q, _ := url.ParseQuery(s.requests()[0].RawQuery)
		assert.Equal(t, url.Values{"phone": {"+79121234567"}, "details": {"1"}}, q)
		if res.Customer != nil {
			assert.EqualValues(t, 7, res.Customer.ID)
			assert.Equal(t, "https://x/customers/7", res.Links.CustomerLink)
		}
	}
	s := newStub(t, reply(http.StatusOK, ok))
	_, err := s.client(t).ResponsibleManager(t.Context(), retailcrm.ManagerQuery{Phone: " "})
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	assert.Zero(t, s.hits.Load())
}
