package retailcrm

import (
	"strings"

	"github.com/pbxkit/pbxkit/voip"
)

// AdditionalCodes maps a PBX's members to CRM users for
// Telephony.AdditionalCodes: one entry for each member with an extension
// that userOf maps to a CRM user id above 0, in the order of members. A
// user or an extension already mapped is not mapped again (retailCRM keeps
// one extension per user), and members without an extension are left out.
// A nil userOf maps nobody.
func AdditionalCodes(members []voip.Member, userOf func(voip.Member) (int64, bool)) []AdditionalCode {
	if userOf == nil {
		return nil
	}
	var out []AdditionalCode
	users, codes := map[int64]bool{}, map[string]bool{}
	for _, m := range members {
		code := strings.TrimSpace(m.Ext)
		if code == "" || codes[code] {
			continue
		}
		id, ok := userOf(m)
		if !ok || id <= 0 || users[id] {
			continue
		}
		users[id], codes[code] = true, true
		out = append(out, AdditionalCode{UserID: id, Code: code})
	}
	return out
}

// UsersByExt is a userOf for AdditionalCodes and Bridge.Register that
// looks a member's extension up in ext → CRM user id.
func UsersByExt(users map[string]int64) func(voip.Member) (int64, bool) {
	return func(m voip.Member) (int64, bool) {
		id, ok := users[strings.TrimSpace(m.Ext)]
		return id, ok
	}
}

// UsersByEmail is a userOf for AdditionalCodes and Bridge.Register that
// looks a member's email up, case-insensitively, in email → CRM user id:
// the PBX and the CRM usually know a person by the same address.
func UsersByEmail(users map[string]int64) func(voip.Member) (int64, bool) {
	lower := make(map[string]int64, len(users))
	for e, id := range users {
		lower[strings.ToLower(strings.TrimSpace(e))] = id
	}
	return func(m voip.Member) (int64, bool) {
		e := strings.ToLower(strings.TrimSpace(m.Email))
		if e == "" {
			return 0, false
		}
		id, ok := lower[e]
		return id, ok
	}
}
