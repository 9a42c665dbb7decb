package phonet

import "github.com/pbxkit/pbxkit/voip"

// region is the default region of numbers without a country code: Phonet
// is a Ukrainian PBX, and sends national numbers ("567850550", "0931234567").
const region = "UA"

// phone is a party field in E.164 when it is a number, as sent otherwise.
func phone(raw string) string { return voip.Party(raw, region) }
