package retailcrm

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// envelopeSamples are answers of the notes, the seed article and the
// official clients' fixtures (api-client-php TelephonyTest and
// IntegrationTests, api-client-go error_test.go), and a few broken ones.
var envelopeSamples = []string{
	`{"success":false,"errorMsg":"Calls are loaded with errors","errors":{"calls[1].date":"This value is not valid.","calls[3]":"refused"},"processedCallsCount":2}`,
	`{"success": true}`,
	`{"success": true, "processedCallsCount": 1}`,
	`{"success":true,"processedCallsCount":0,"duplicateCalls":["pbx-call-0001"]}`,
	`{"success":true,"notExistCodes":["999"],"notExistUsers":[42]}`,
	`{"success": true, "info": []}`,
	`{"success": true, "info": {"notExistUsersIds": [99], "notExistSiteCodes": ["old-shop"]}}`,
	`{"success":true,"manager":{"id":1,"firstName":"John","lastName":"John","patronymic":"John","email":"test@examle.com","code":"12"},"customer":{"id":1,"externalId":"1","firstName":"John","lastName":"John","patronymic":"John","email":"test@examle.com","phones":[{"number":"88005553125"}]},"links":{"newOrderLink":"https://azgalot.retailcrm.ru/orders/add?phone=88005553125","newCustomerLink":"https://azgalot.retailcrm.ru/customers/add?phone=88005553125"}}`,
	`{"success":true,"integrationModule":{"code":"mg-fbmessenger","integrationCode":"mg-fbmessenger","active":true,"freeze":false,"name":"Facebook Messenger","native":false,"baseUrl":"https://mg-tp-fbm-s1.retailcrm.pro/","actions":{"activity":"/actions/activity"},"availableCountries":[],"accountUrl":"https://mg-tp-fbm-s1.retailcrm.pro/settings/clientId","integrations":{"telephony":{"allowEdit":false,"additionalCodes":[{"userId":"1","code":100}]}}}}`,
	`{"success": false, "errorMsg": "Failed to activate module", "errors": ["Your account has insufficient funds to activate integration module", "Test error"]}`,
	`{"success": false, "errorMsg": "Failed to activate module", "errors": {"id": "ID must be an integer", "test": "Test error"}}`,
	`{"success":false,"errorMsg":"Wrong \"apiKey\" value."}`,
	`{"success":false,"errorMsg":"\"apiKey\" is missing."}`,
	`{"success":false,"errorMsg":"Rate limit exceeded"}`,
	`{"success":false,"errorMsg":"Telephony not enabled"}`,
	`{"success":false,"errorMsg":"Errors in the entity format","errors":{"calls[0].phone":{"x":[1]},"n":5}}`,
	`<html>Account does not exist</html>`, ``, `{"success":tr`, `[]`, `{"errors":"x"}`,
}

func FuzzEnvelope(f *testing.F) {
	for _, s := range envelopeSamples {
		for _, status := range []int{200, 201, 400, 403, 404, 405, 460, 503} {
			f.Add(status, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		err := checkResponse(&rest.Response{StatusCode: status, Header: http.Header{}, Body: body})
		if status >= 200 && status < 300 {
			require.NoError(t, err)
		} else {
			require.Error(t, err)
			var e *voip.APIError
			require.True(t, errors.As(err, &e))
			require.NotNil(t, e.Kind)
			var f *apiFailure
			if errors.As(err, &f) && f.calls != nil {
				require.Equal(t, statusPartial, status)
				require.True(t, slices.IsSorted(f.calls))
				require.Less(t, f.calls[len(f.calls)-1], MaxCallsPerUpload)
				require.GreaterOrEqual(t, f.calls[0], 0)
			}
		}
		var env envelope
		if decodeEnvelope(body, &env) == nil {
			if env.Success != nil && !*env.Success {
				e := envelopeError(status, &env)
				require.NotEmpty(t, e.Error())
			}
			if entries := errorEntries(env.Errors); len(env.Errors) == 0 || string(env.Errors) == "null" {
				require.Empty(t, entries)
			}
		}
		// Every answer shape the methods decode.
		var upload struct {
			envelope
			Processed  int  `json:"processedCallsCount"`
			Duplicates strs `json:"duplicateCalls"`
		}
		_ = decodeEnvelope(body, &upload)
		var event struct {
			envelope
			NotExistCodes strs   `json:"notExistCodes"`
			NotExistUsers int64s `json:"notExistUsers"`
		}
		_ = decodeEnvelope(body, &event)
		var manager struct {
			envelope
			Manager  object[managerWire]  `json:"manager"`
			Customer object[customerWire] `json:"customer"`
			Links    object[linksWire]    `json:"links"`
		}
		_ = decodeEnvelope(body, &manager)
		var module struct {
			envelope
			Module object[moduleIn] `json:"integrationModule"`
		}
		_ = decodeEnvelope(body, &module)
		var info struct {
			envelope
			Info object[struct {
				NotExistUsersIDs  int64s `json:"notExistUsersIds"`
				NotExistSiteCodes strs   `json:"notExistSiteCodes"`
			}] `json:"info"`
		}
		_ = decodeEnvelope(body, &info)
		_ = lenient.Unmarshal(body, new(any))
	})
}

// callbackSamples are the seed article's callback queries, a recording's
// and a few broken ones.
var callbackSamples = []string{
	"clientId=2dbh26tahjj26sg&code=100&phone=+79121234567&userId=1",
	"clientId=2dbh26tahjj26sg&code=100&userId=1&status=busy",
	"clientId=2dbh26tahjj26sg&code=100&phone=%2B7%20912%20123-45-67&userId=1&externalPhone=+74999999999",
	"token=abc&clientId=2dbh26tahjj26sg",
	"clientId=a&clientId=b&phone=1", "phone=&userId=x", "status=&clientId=", "a=%zz", "", "phone=+&userId=99999999999999999999",
}

func FuzzCallbackQuery(f *testing.F) {
	for _, s := range callbackSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cb, err := readCallback(raw)
		if err != nil {
			require.ErrorIs(t, err, voip.ErrMalformed)
			return
		}
		require.NotContains(t, cb.rest, "clientId")
		switch cb.kind {
		case kindMakeCall:
			require.NotEmpty(t, cb.call.Phone)
			require.False(t, strings.HasPrefix(cb.call.Phone, " "))
			require.Equal(t, cb.clientID, cb.call.ClientID)
			require.GreaterOrEqual(t, cb.call.UserID, int64(0))
		case kindStatus:
			require.NotEmpty(t, cb.status.Status)
			require.Equal(t, cb.clientID, cb.status.ClientID)
		}
	})
}

// TestCallbackErrorsNeverQuoteClientID checks the errors of readCallback
// against a clientId found in no other parameter.
func TestCallbackErrorsNeverQuoteClientID(t *testing.T) {
	for _, raw := range []string{"clientId=s3cr3t-v4lue&phone=1&userId=x", "clientId=s3cr3t-v4lue&status=", "clientId=s3cr3t-v4lue&phone="} {
		_, err := readCallback(raw)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "s3cr3t-v4lue")
	}
}
