package voip_test

import (
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/pbxkit/pbxkit/voip"
)

// BenchmarkNormalizePhone compares NormalizePhone with the plain
// phonenumbers Parse, IsValidNumber and Format calls a caller would write.
// Each loop repeats one number, which NormalizePhone then answers from its
// cache, as it does for the numbers a PBX's traffic repeats; the cost of a
// number's first sight is BenchmarkNormalizePhoneUncached's.
func BenchmarkNormalizePhone(b *testing.B) {
	for _, in := range []struct{ name, raw, region string }{
		{"e164", "+79121234567", "RU"},
		{"digits", "79121234567", "RU"},
		{"national", "8 (912) 123-45-67", "RU"},
		{"ua", "380501234567", "UA"},
	} {
		b.Run(in.name+"/phonenumbers", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				num, err := phonenumbers.Parse(in.raw, in.region)
				if err != nil || !phonenumbers.IsValidNumber(num) {
					b.Fatal(err)
				}
				_ = phonenumbers.Format(num, phonenumbers.E164)
			}
		})
		b.Run(in.name+"/NormalizePhone", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := voip.NormalizePhone(in.raw, in.region); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
