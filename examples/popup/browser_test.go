package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// browserPath finds a Chromium to drive: POPUP_CHROMIUM, or Debian's.
func browserPath() (string, bool) {
	if p := os.Getenv("POPUP_CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// The pop-up in a real browser, on the Phonet emulator: two managers'
// pages; a customer's call pops up on its manager's page only, with the
// customer's name; "call back" places exactly one call; a dropped PBX
// socket brings the banner. The page is saved as a screenshot: under the
// test's temporary directory, and at $POPUP_SCREENSHOT when set.
func TestBrowser(t *testing.T) {
	chromium, ok := browserPath()
	if !ok {
		t.Skip("no Chromium to drive: install one (Debian: apt-get install chromium) or set POPUP_CHROMIUM to its path")
	}
	in, emu := startEmulated(t, "phonet")
	ms := in.crm.managerList()
	m1, m2 := ms[0].Ext, ms[1].Ext
	known := demoCustomers[0] // Олена Шевченко, a customer of m1

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1100, 760),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	page1, closePage1 := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer closePage1()
	require.NoError(t, chromedp.Do(page1), "start Chromium at %s", chromium)
	page2, closePage2 := chromedp.NewContext(page1) // a second tab of the same browser
	defer closePage2()

	for _, p := range []struct {
		ctx context.Context
		ext string
	}{{page1, m1}, {page2, m2}} {
		require.NoError(t, chromedp.Do(p.ctx,
			chromedp.Navigate(in.base+"/m/"+p.ext),
			chromedp.WaitVisible(`#live.on`), // the event stream is open
		), "open the page of %s", p.ext)
	}

	// A customer calls m1; then an unknown number calls m2. Once m2's
	// card is there, m1's call would have been too, had it been sent.
	require.NoError(t, emu.play(ctx, known.Phone, m1, 47*time.Second, 0))
	require.NoError(t, emu.play(ctx, unknownCaller, m2, 0, 0))

	text := func(page context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(page, chromedp.Text(sel))
		require.NoError(t, err, sel)
		return s
	}
	clients := func(page context.Context) []string {
		t.Helper()
		s, err := chromedp.Run(page, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#cards li.card .client")].map(e => e.textContent)`))
		require.NoError(t, err)
		return s
	}
	require.NoError(t, chromedp.Do(page1, chromedp.WaitVisible(`#cards li.card .customer`)))
	assert.Equal(t, known.Name, text(page1, `#cards li.card .customer`))
	assert.Equal(t, known.Phone, text(page1, `#cards li.card .client`))

	require.NoError(t, chromedp.Do(page2, chromedp.WaitVisible(`#cards li.card[data-state="ended"] .customer`)))
	assert.Equal(t, "New customer", text(page2, `#cards li.card .customer`))
	assert.Equal(t, []string{unknownCaller}, clients(page2), "m2's page shows m2's call only")
	assert.Equal(t, []string{known.Phone}, clients(page1), "m1's page shows m1's call only")

	// "Call back" on the customer's card, once its record is in.
	require.NoError(t, chromedp.Do(page1,
		chromedp.WaitVisible(`#cards li.card[data-state="ended"] a.recording`),
		chromedp.Click(`#cards li.card .call-back`),
		chromedp.WaitVisible(`#dial-status[data-state="ringing"]`),
	))
	assert.Contains(t, text(page1, `#dial-status`), "ringing")
	assert.Equal(t, 1, emu.placed(), "one click, one call")
	// The PBX rings the manager first: the outgoing call pops up too.
	require.NoError(t, chromedp.Do(page1, chromedp.WaitVisible(`#cards li.card[data-state="ringing"]`)))
	require.NoError(t, emu.finishPlaced(ctx))

	// The PBX's socket drops: the page says calls may have been missed.
	emu.drop()
	require.NoError(t, chromedp.Do(page1,
		chromedp.WaitVisible(`#gap-banner`),
		chromedp.WaitVisible(`#cards li.card[data-state="ended"] + li.card[data-state="ended"] a.recording`),
	))
	assert.Contains(t, text(page1, `#gap-banner`), "may have missed calls")
	assert.Equal(t, 1, emu.placed(), "nothing was placed again")

	// The dial box, by keyboard: the PBX fails the request in a way that
	// leaves the call's fate unknown. The page says so, and nothing is
	// sent again.
	emu.failDial()
	asked := emu.asked()
	require.NoError(t, chromedp.Do(page1,
		chromedp.Focus(`#dial-phone`),
		chromedp.SendKeys(`#dial-phone`, "067 111 22 33\n"),
		chromedp.WaitVisible(`#dial-status[data-state="maybe"]`),
	))
	assert.Contains(t, text(page1, `#dial-status`), "may be ringing")
	assert.Equal(t, asked+1, emu.asked(), "asked once, not retried")
	assert.Equal(t, 1, emu.placed())

	// For the picture: a new call rings, on top.
	emu.ring(demoCustomers[2].Phone, m1)
	require.NoError(t, chromedp.Do(page1, chromedp.WaitVisible(`#cards li.card[data-state="ringing"]`)))
	assert.Equal(t, demoCustomers[2].Name, text(page1, `#cards li.card .customer`))

	shot, err := chromedp.Run(page1, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NotEmpty(t, shot)
	path := filepath.Join(t.TempDir(), "popup.png")
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)
	if dst := os.Getenv("POPUP_SCREENSHOT"); dst != "" { // relative to examples/popup
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		require.NoError(t, os.WriteFile(dst, shot, 0o644))
		t.Logf("screenshot copied to %s", dst)
	}
	assert.True(t, strings.HasPrefix(string(shot), "\x89PNG"), "a PNG")
}
