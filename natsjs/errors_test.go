package natsjs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"

	"github.com/pbxkit/pbxkit/natsjs"
	"github.com/pbxkit/pbxkit/voip"
)

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	e := &natsjs.Error{Op: "publish", Kind: natsjs.ErrUnavailable, Err: nats.ErrTimeout}
	assert.Equal(t, "natsjs: publish: NATS unavailable: nats: timeout", e.Error())
	assert.ErrorIs(t, e, natsjs.ErrUnavailable)
	assert.ErrorIs(t, e, voip.ErrUnreachable)
	assert.ErrorIs(t, e, nats.ErrTimeout)
	assert.NotErrorIs(t, e, natsjs.ErrRefused)

	r := &natsjs.Error{Op: "publish", Kind: natsjs.ErrRefused, Err: errors.New("maximum messages exceeded")}
	assert.ErrorIs(t, r, natsjs.ErrRefused)
	assert.NotErrorIs(t, r, voip.ErrUnreachable, "a refusal is not an outage")

	c := &natsjs.Error{Op: "memory add", Err: context.Canceled}
	assert.Equal(t, "natsjs: memory add: context canceled", c.Error())
	assert.ErrorIs(t, c, context.Canceled)
	assert.NotErrorIs(t, c, natsjs.ErrUnavailable)
}
