package webitel

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// Agent is a contact-centre agent (protos engine/agent.proto): a user who
// takes calls from queues.
type Agent struct {
	ID string
	// User is the agent's user; required on create.
	User            *Lookup
	Name, Extension string
	Description     string
	// Status is "online", "offline", "pause" or "break_out".
	Status           string
	LastStatusChange time.Time
	StatusDuration   time.Duration
	Team             *Lookup
	Supervisor       []Lookup
	IsSupervisor     bool
	AllowChannels    []string
	ProgressiveCount int
}

type wireAgent struct {
	ID               lenient.String   `json:"id"`
	User             *wireLookup      `json:"user"`
	Name             lenient.String   `json:"name"`
	Extension        lenient.String   `json:"extension"`
	Description      lenient.String   `json:"description"`
	Status           lenient.String   `json:"status"`
	LastStatusChange lenient.Time     `json:"last_status_change"`
	StatusDuration   lenient.Int64    `json:"status_duration"`
	Team             *wireLookup      `json:"team"`
	Supervisor       []wireLookup     `json:"supervisor"`
	IsSupervisor     wireBool         `json:"is_supervisor"`
	AllowChannels    []lenient.String `json:"allow_channels"`
	ProgressiveCount lenient.Int64    `json:"progressive_count"`
}

func (w *wireAgent) key() string { return string(w.ID) }

func (w *wireAgent) agent() (Agent, error) {
	a := Agent{ID: string(w.ID), User: w.User.lookup(), Name: string(w.Name), Extension: string(w.Extension),
		Description: string(w.Description), Status: string(w.Status), LastStatusChange: w.LastStatusChange.Time,
		StatusDuration: durationSec(w.StatusDuration), Team: w.Team.lookup(), Supervisor: lookups(w.Supervisor),
		IsSupervisor: bool(w.IsSupervisor), ProgressiveCount: int(w.ProgressiveCount)}
	for _, ch := range w.AllowChannels {
		a.AllowChannels = append(a.AllowChannels, string(ch))
	}
	return a, nil
}

// CreateAgent makes a user an agent (POST /api/call_center/agents).
// a.User is required; a zero ProgressiveCount is sent as 1.
func (c *Client) CreateAgent(ctx context.Context, a Agent) (*Agent, error) {
	if a.User == nil || strings.TrimSpace(a.User.ID) == "" {
		return nil, argError("CreateAgent", "Agent.User", errEmpty)
	}
	body := struct {
		User             *sendLookup  `json:"user"`
		Description      string       `json:"description,omitempty"`
		ProgressiveCount int          `json:"progressive_count"`
		AllowChannels    []string     `json:"allow_channels,omitempty"`
		Team             *sendLookup  `json:"team,omitempty"`
		Supervisor       []sendLookup `json:"supervisor,omitempty"`
		IsSupervisor     bool         `json:"is_supervisor,omitempty"`
	}{User: toSend(a.User), Description: a.Description, ProgressiveCount: max(a.ProgressiveCount, 1),
		AllowChannels: a.AllowChannels, Team: toSend(a.Team), Supervisor: sendLookups(a.Supervisor), IsSupervisor: a.IsSupervisor}
	resp, err := c.do(ctx, http.MethodPost, "call_center/agents", nil, body, rest.ByMethod)
	if err != nil {
		return nil, err
	}
	var w wireAgent
	if err := decodeOne(resp, &w, "agent"); err != nil {
		return nil, err
	}
	out, _ := w.agent()
	return &out, nil
}

// AgentQuery selects agents; every field is optional.
type AgentQuery struct {
	Q       string
	UserIDs []string
	// PageSize is the size of each request, 1..MaxPageSize; 0 is
	// DefaultPageSize.
	PageSize int
}

// Agents iterates over the agents (GET /api/call_center/agents).
func (c *Client) Agents(ctx context.Context, q AgentQuery) iter.Seq2[Agent, error] {
	size, err := checkSize("Agents", "AgentQuery.PageSize", q.PageSize)
	if err != nil {
		return failedSeq[Agent](err)
	}
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	for _, id := range q.UserIDs {
		v.Add("user_id", id)
	}
	return pages(ctx, c, "call_center/agents", v, size, (*wireAgent).agent)
}

// SetAgentStatus sets an agent's status (PATCH
// /api/call_center/agents/{id}/status): "online", "pause" or "offline",
// the only ones the engine accepts (engine grpc_api/cc_agent.go); any
// other is a *voip.ArgError and nothing is sent. pauseCause is sent with
// "pause" as the payload, and may be empty. Webitel answers
// {"status":"OK"}; another status is an error matching
// voip.ErrBadResponse. Setting a status twice is harmless, so it is
// retried like a read.
func (c *Client) SetAgentStatus(ctx context.Context, agentID, status, pauseCause string) error {
	agentID = strings.TrimSpace(agentID)
	if agentID == "" {
		return argError("SetAgentStatus", "agentID", errEmpty)
	}
	switch status {
	case "online", "pause", "offline":
	default:
		return argError("SetAgentStatus", "status", fmt.Errorf("%q is not online, pause or offline", status))
	}
	body := map[string]string{"status": status}
	if status == "pause" && pauseCause != "" {
		body["payload"] = pauseCause
	}
	resp, err := c.do(ctx, http.MethodPatch, "call_center/agents/"+url.PathEscape(agentID)+"/status", nil, body, rest.Idempotent)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(resp.Body))) == 0 {
		return nil
	}
	var w struct {
		Status lenient.String `json:"status"`
	}
	if err := decodeOne(resp, &w); err != nil {
		return err
	}
	if w.Status != "" && !strings.EqualFold(string(w.Status), "OK") {
		return resp.Error(&voip.APIError{Kind: voip.ErrBadResponse, Message: fmt.Sprintf("status %q, not OK", w.Status)})
	}
	return nil
}
