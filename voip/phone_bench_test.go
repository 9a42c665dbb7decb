package voip_test

import (
	"testing"

	"github.com/pbxkit/pbxkit/voip"
)

func BenchmarkNormalizePhone(b *testing.B) {
	for _, in := range []struct{ name, raw, region string }{
		{"e164", "+79121234567", "RU"},
		{"digits", "79121234567", "RU"},
		{"national", "8 (912) 123-45-67", "RU"},
		{"ua", "380501234567", "UA"},
		{"ext", "101", "RU"},
	} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := voip.NormalizePhone(in.raw, in.region); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
