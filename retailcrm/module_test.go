package retailcrm_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

// seedModule is the module of the seed article's example, with the event
// flags and allowEdit false, which must be sent.
var seedModule = retailcrm.IntegrationModule{
	Active: true, Name: "Название телефонии", Logo: "http://api.telephony-test.ru/logo.svg",
	ClientID: "2dbh26tahjj26sg", AccountURL: "http://api.telephony-test.ru/settings",
	Telephony: &retailcrm.Telephony{
		MakeCallURL: "http://api.telephony-test.ru/make-call", ChangeUserStatusURL: "http://api.telephony-test.ru/change-status",
		InputEventSupported: true,
		AdditionalCodes:     []retailcrm.AdditionalCode{{UserID: 1, Code: "100"}, {UserID: 2, Code: "200"}},
		ExternalPhones: []retailcrm.ExternalPhone{{SiteCode: "shop1", ExternalPhone: "+7-499-999-99-99"},
			{SiteCode: "shop2", ExternalPhone: "+7-499-888-88-88"}},
	},
}

func TestEditIntegrationModule(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusCreated, `{"success":true,"info":{"notExistUsersIds":[99,"100"],"notExistSiteCodes":["old-shop"]}}`))
	logs := &testutil.Logs{}
	info, err := s.client(t, retailcrm.WithLogger(logs.Logger())).EditIntegrationModule(t.Context(), "my-telephony", seedModule)
	require.NoError(t, err)
	assert.Equal(t, &retailcrm.EditInfo{NotExistUserIDs: []int64{99, 100}, NotExistSiteCodes: []string{"old-shop"}}, info)
	// The Debug line shows the body with the clientId hidden.
	assert.Contains(t, logs.String(), "integrationModule=")
	assert.Contains(t, logs.String(), "%22clientId%22%3A%22[REDACTED]%22")
	assert.NotContains(t, logs.String(), seedModule.ClientID)

	reqs := s.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/api/v5/integration-modules/my-telephony/edit", r.Path)
	assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
	var got map[string]any
	formJSON(t, r, "integrationModule", &got)
	assert.Equal(t, map[string]any{
		"code": "my-telephony", "active": true, "name": "Название телефонии", "logo": "http://api.telephony-test.ru/logo.svg",
		"clientId": "2dbh26tahjj26sg", "accountUrl": "http://api.telephony-test.ru/settings",
		"integrations": map[string]any{"telephony": map[string]any{
			"makeCallUrl": "http://api.telephony-test.ru/make-call", "changeUserStatusUrl": "http://api.telephony-test.ru/change-status",
			"allowEdit": false, "inputEventSupported": true, "outputEventSupported": false, "hangupEventSupported": false,
			"additionalCodes": []any{map[string]any{"userId": float64(1), "code": "100"}, map[string]any{"userId": float64(2), "code": "200"}},
			"externalPhones": []any{map[string]any{"siteCode": "shop1", "externalPhone": "+7-499-999-99-99"},
				map[string]any{"siteCode": "shop2", "externalPhone": "+7-499-888-88-88"}},
		}},
	}, got)
}

// TestEditSendsFalse checks that a module switched off says so: active and
// every flag are sent false, not left out.
func TestEditSendsFalse(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, `{"success":true,"info":[]}`))
	info, err := s.client(t).EditIntegrationModule(t.Context(), "acme", retailcrm.IntegrationModule{Code: "acme", Telephony: &retailcrm.Telephony{
		AdditionalCodes: []retailcrm.AdditionalCode{}}})
	require.NoError(t, err)
	assert.Equal(t, &retailcrm.EditInfo{}, info, `"info": [] is an empty info`)
	var got map[string]any
	formJSON(t, s.requests()[0], "integrationModule", &got)
	assert.Equal(t, false, got["active"])
	tel := got["integrations"].(map[string]any)["telephony"].(map[string]any)
	for _, f := range []string{"allowEdit", "inputEventSupported", "outputEventSupported", "hangupEventSupported"} {
		assert.Equal(t, false, tel[f], f)
	}
	assert.Equal(t, []any{}, tel["additionalCodes"], "an empty list clears the mapping")
	assert.NotContains(t, tel, "externalPhones", "a nil list leaves it")
}

func TestEditRefusesArguments(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, ok))
	c := s.client(t)
	for _, tc := range []struct {
		code string
		m    retailcrm.IntegrationModule
	}{
		{"", retailcrm.IntegrationModule{}},
		{"a/b", retailcrm.IntegrationModule{}},
		{"..", retailcrm.IntegrationModule{}},
		{"a?b", retailcrm.IntegrationModule{}},
		{"acme", retailcrm.IntegrationModule{Code: "other"}},
	} {
		_, err := c.EditIntegrationModule(t.Context(), tc.code, tc.m)
		var arg *voip.ArgError
		require.ErrorAs(t, err, &arg, tc.code)
		assert.ErrorIs(t, err, voip.ErrBadRequest)
	}
	_, err := c.IntegrationModule(t.Context(), "")
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	assert.Zero(t, s.hits.Load())
}

// phpModuleFixture is api-client-php's IntegrationTests::testGet answer with
// a telephony block whose ids and codes mix numbers and strings.
const phpModuleFixture = `{
    "success": true,
    "integrationModule": {
        "code": "mg-fbmessenger", "integrationCode": "mg-fbmessenger", "active": true, "freeze": false,
        "name": "Facebook Messenger", "logo": "https://mg-tp-fbm-s1.retailcrm.pro/static/fbmessenger_logo.svg",
        "native": false, "baseUrl": "https://mg-tp-fbm-s1.retailcrm.pro/", "actions": {"activity": "/actions/activity"},
        "availableCountries": [], "accountUrl": "https://mg-tp-fbm-s1.retailcrm.pro/settings/clientId",
        "integrations": {
            "mgTransport": {"token": "token", "isActive": true, "webhookUrl": "https://mg-tp-fbm-s1.retailcrm.pro/webhook/"},
            "telephony": {"makeCallUrl": "https://pbx.example.com/make-call", "allowEdit": "0", "inputEventSupported": 1,
                "outputEventSupported": true, "hangupEventSupported": false,
                "additionalCodes": [{"userId": "16", "code": 101}, {"userId": 17, "code": "102"}],
                "externalPhones": [{"siteCode": "main", "externalPhone": "+74950000000"}]}
        }
    }
}`

func TestIntegrationModule(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, phpModuleFixture))
	m, err := s.client(t).IntegrationModule(t.Context(), "mg-fbmessenger")
	require.NoError(t, err)
	assert.Equal(t, &retailcrm.IntegrationModule{
		Code: "mg-fbmessenger", IntegrationCode: "mg-fbmessenger", Name: "Facebook Messenger",
		Logo: "https://mg-tp-fbm-s1.retailcrm.pro/static/fbmessenger_logo.svg", BaseURL: "https://mg-tp-fbm-s1.retailcrm.pro/",
		AccountURL: "https://mg-tp-fbm-s1.retailcrm.pro/settings/clientId", Active: true,
		Telephony: &retailcrm.Telephony{MakeCallURL: "https://pbx.example.com/make-call", InputEventSupported: true, OutputEventSupported: true,
			AdditionalCodes: []retailcrm.AdditionalCode{{UserID: 16, Code: "101"}, {UserID: 17, Code: "102"}},
			ExternalPhones:  []retailcrm.ExternalPhone{{SiteCode: "main", ExternalPhone: "+74950000000"}}},
	}, m)
	r := s.requests()[0]
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/api/v5/integration-modules/mg-fbmessenger", r.Path)
}

func TestIntegrationModuleBadAnswers(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]error{
		`{"success":true}`:                                                   voip.ErrBadResponse,
		`{"success":true,"integrationModule":[]}`:                            voip.ErrBadResponse,
		`{"success":true,"integrationModule":{"integrations":[1]}}`:          voip.ErrBadResponse,
		`{"success":true,"integrationModule":{"code":"x","active":"maybe"}}`: voip.ErrBadResponse,
		`{"success":false,"errorMsg":"Not found"}`:                           voip.ErrNotFound,
	} {
		s := newStub(t, reply(http.StatusOK, body))
		_, err := s.client(t).IntegrationModule(t.Context(), "x")
		assert.ErrorIs(t, err, want, body)
	}
	s := newStub(t, reply(http.StatusOK, `{"success":true,"integrationModule":{"code":"x","integrations":[]}}`))
	m, err := s.client(t).IntegrationModule(t.Context(), "x")
	require.NoError(t, err)
	assert.Nil(t, m.Telephony)
}
