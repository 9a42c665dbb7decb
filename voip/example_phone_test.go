package voip_test

import (
	"errors"
	"fmt"

	"github.com/pbxkit/pbxkit/voip"
)

func ExampleNormalizePhone() {
	for _, raw := range []string{
		"8 (912) 123-45-67", // Russian, with the trunk prefix
		"0501234567",        // Ukrainian, with the trunk prefix
		"380501234567",      // Ukrainian, the vendor dropped the "+"
		"+7 (701) 123-45-67",
		"101", // an extension: unchanged
	} {
		phone, err := voip.NormalizePhone(raw, "RU")
		if errors.Is(err, voip.ErrInvalidPhone) {
			fmt.Println(err)
			continue
		}
		fmt.Println(phone)
	}

	phone, _ := voip.NormalizePhone("0501234567", "UA")
	fmt.Println(phone)

	// A caller that hides its number is not a phone: keep the raw value.
	_, err := voip.NormalizePhone("anonymous", "RU")
	fmt.Println(errors.Is(err, voip.ErrInvalidPhone))
	// Output:
	// +79121234567
	// voip: invalid phone number "0501234567": not a valid number in RU or with a country code
	// +380501234567
	// +77011234567
	// 101
	// +380501234567
	// true
}
