package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/pbxkit/pbxkit/phonet/phonettest"
)

// apiKey is the emulated tenant's key.
const apiKey = "scale-api-key-0123456789"

// frame is the call.dial of Phonet's WSS article, pushed to every socket.
var frame = []byte(`{"event":"call.dial","uuid":"23-1453990999.41","parentUuid":null,"lgDirection":4,` +
	`"leg":{"id":120,"type":1,"displayName":"Support Phonet","ext":"911"},"leg2":null,` +
	`"otherLegs":[{"id":"29","name":"Тест","num":"+380567777777","companyName":"Рекламное агентство",` +
	`"url":"https://qwerty.phonet.com.ua/features/crm/contacts/edit.jsp#/?id=1","priority":2}],` +
	`"dialAt":1473973200000,"bridgeAt":null,"serverTime":"1473973201000","trunkNum":"567850550","trunkName":"567850550"}`)

// subscriber is the extension of the i-th subscription.
func subscriber(i int) string { return strconv.Itoa(100000 + i) }

// serve is the server process: the Phonet emulator with n users, driven
// by one command a line on stdin, each answered by one line on stdout
// ("ok …" or "error …"). It ends with "quit" or when stdin closes, that
// is when the measuring process is gone.
func serve(n int) error {
	if _, err := raiseFileLimit(n + 64); err != nil {
		return err
	}
	srv := phonettest.NewServer(apiKey)
	defer srv.Close()
	users := make([]phonettest.User, n)
	for i := range users {
		ext := subscriber(i)
		users[i] = phonettest.User{ID: i + 1, DisplayName: "Manager " + ext, Ext: ext, Email: "m" + ext + "@" + srv.Domain}
	}
	srv.SetUsers(users)
	fmt.Printf("ready %s %s\n", srv.BaseURL(), srv.Domain)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		var (
			reply string
			err   error
		)
		switch f[0] {
		case "offline":
			err = srv.Offline(true)
		case "online":
			err = srv.Offline(false)
		case "sockets":
			reply = strconv.Itoa(srv.Sockets())
		case "push": // push ROUNDS: one frame to every socket, ROUNDS times
			rounds := 1
			if len(f) > 1 {
				rounds, err = strconv.Atoi(f[1])
			}
			sent := 0
			for range rounds {
				sent += srv.PushAll(frame)
			}
			reply = strconv.Itoa(sent)
		case "quit":
			fmt.Println("ok")
			return nil
		default:
			err = fmt.Errorf("unknown command %q", f[0])
		}
		if err != nil {
			fmt.Println("error", err)
			continue
		}
		fmt.Println("ok", reply)
	}
	return in.Err()
}

// server is the measuring process's handle on the server process.
type server struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Scanner
	baseURL string
	domain  string
	mu      sync.Mutex // one command at a time
}

// startServer runs this program again as the server for n subscriptions,
// so that the server's memory and CPU are not the client's.
func startServer(n int) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", "-subs", strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	if !s.out.Scan() {
		s.close()
		return nil, errors.New("the server process did not start")
	}
	f := strings.Fields(s.out.Text())
	if len(f) != 3 || f[0] != "ready" {
		s.close()
		return nil, fmt.Errorf("the server process said %q", s.out.Text())
	}
	s.baseURL, s.domain = f[1], f[2]
	return s, nil
}

// do sends one command and returns the answer after "ok".
func (s *server) do(command string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := fmt.Fprintln(s.in, command); err != nil {
		return "", fmt.Errorf("server: %s: %w", command, err)
	}
	if !s.out.Scan() {
		return "", fmt.Errorf("server: %s: no answer", command)
	}
	reply, ok := strings.CutPrefix(s.out.Text(), "ok")
	if !ok {
		return "", fmt.Errorf("server: %s: %s", command, s.out.Text())
	}
	return strings.TrimSpace(reply), nil
}

// sockets returns how many live sockets the server holds.
func (s *server) sockets() (int, error) {
	reply, err := s.do("sockets")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(reply)
}

// close ends the server process.
func (s *server) close() {
	_, _ = s.do("quit")
	_ = s.in.Close()
	_ = s.cmd.Wait()
}
