package webitel_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

func TestMembers(t *testing.T) {
	t.Parallel()
	_, c := newRESTServer(t, restRoutes{"GET /api/users": restOK(`{"page":1,"size":100,"next":false,"items":[
		{"id":"1","name":"Іван Петренко","extension":"101","email":"ivan@example.com"},
		{"id":"2","name":"no phone"},
		{"id":"3","name":"Сергій Бондар","extension":103}]}`)}.handler)
	var p voip.Provider = c
	m, err := p.Members(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []voip.Member{{ID: "1", Name: "Іван Петренко", Ext: "101", Email: "ivan@example.com"},
		{ID: "3", Name: "Сергій Бондар", Ext: "103"}}, m)
}
