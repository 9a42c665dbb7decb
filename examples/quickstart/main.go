// Command quickstart shows pbxkit end to end. With no credentials in the
// environment it runs on the in-process vendor emulators, so it needs no
// network and no account.
//
//	go run ./examples/quickstart
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

func main() {
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	fmt.Println("pbxkit quickstart: the vendor-neutral model")

	// Every vendor writes phone numbers its own way; voip.NormalizePhone
	// brings them to E.164 and leaves extensions alone.
	fmt.Println("\nphone normalisation:")
	for _, in := range []struct{ raw, region string }{
		{"8 (912) 123-45-67", "RU"},
		{"0501234567", "UA"},
		{"380501234567", ""},
		{"+7 701 123 45 67", ""},
		{"101", "RU"},
		{"anonymous", "RU"},
	} {
		out, err := voip.NormalizePhone(in.raw, in.region)
		if err != nil {
			fmt.Printf("  %-20q %-3s -> error: %v\n", in.raw, in.region, err)
			continue
		}
		fmt.Printf("  %-20q %-3s -> %s\n", in.raw, in.region, out)
	}

	// A live event and the finished record, as every vendor package emits them.
	client, err := voip.NormalizePhone("8 912 123 45 67", "RU")
	if err != nil {
		return err
	}
	start := time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)
	events := []voip.Event{
		{Kind: voip.EventStart, Vendor: "example", CallID: "c-1", Direction: voip.DirectionIn, Client: client, Ext: "101", Line: "+74951234567", At: start},
		{Kind: voip.EventAnswer, Vendor: "example", CallID: "c-1", Direction: voip.DirectionIn, Client: client, Ext: "101", Line: "+74951234567", At: start.Add(7 * time.Second)},
		{Kind: voip.EventEnd, Vendor: "example", CallID: "c-1", Direction: voip.DirectionIn, Client: client, Ext: "101", Line: "+74951234567", At: start.Add(95 * time.Second), Disposition: voip.DispositionAnswered, RawStatus: "Success"},
	}
	fmt.Println("\nlive events:")
	enc := json.NewEncoder(os.Stdout)
	for _, ev := range events {
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	call := voip.Call{
		ID: "c-1", Vendor: "example", Direction: voip.DirectionIn, Client: client, Ext: "101", Line: "+74951234567",
		StartedAt: start, AnsweredAt: start.Add(7 * time.Second), Duration: 95 * time.Second, Talk: 88 * time.Second,
		Disposition: voip.DispositionAnswered, RawStatus: "Success",
	}
	fmt.Println("\nthe call record:")
	if err := enc.Encode(call); err != nil {
		return err
	}

	// Errors from every vendor are matched the same way.
	var apiErr error = &voip.APIError{Vendor: "example", Method: "POST", StatusCode: 401, Message: "Invalid token"}
	fmt.Println("\nerrors:")
	fmt.Println(" ", apiErr)
	fmt.Println("  errors.Is(err, voip.ErrUnauthorized) =", errors.Is(apiErr, voip.ErrUnauthorized))
	fmt.Println("\nvendor clients join this quickstart as their packages land; see README.md.")
	return nil
}
