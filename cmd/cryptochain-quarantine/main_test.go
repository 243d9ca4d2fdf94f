package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptochain-otel/cryptochain/exporter/cryptochainresponseexporter/quarantine"
)

func TestListAndRestore(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "job")
	content := []byte("* * * * * root /tmp/x\n")
	require.NoError(t, os.WriteFile(orig, content, 0o644))
	qdir := filepath.Join(dir, "q")
	it, err := quarantine.Store{Dir: qdir}.Quarantine(orig, "f-1")
	require.NoError(t, err)

	var out bytes.Buffer
	require.NoError(t, run([]string{"--dir", qdir, "list"}, &out))
	assert.Contains(t, out.String(), it.ID)
	assert.Contains(t, out.String(), orig)

	out.Reset()
	require.NoError(t, run([]string{"--dir", qdir, "list", "--json"}, &out))
	var items []quarantine.Item
	require.NoError(t, json.Unmarshal(out.Bytes(), &items))
	require.Len(t, items, 1)
	assert.Equal(t, "f-1", items[0].FindingID)

	out.Reset()
	require.NoError(t, run([]string{"--dir", qdir, "restore", it.ID}, &out))
	b, err := os.ReadFile(orig)
	require.NoError(t, err)
	assert.Equal(t, content, b)
	assert.Error(t, run([]string{"--dir", qdir, "restore", it.ID}, &out), "the file is back: a second restore needs --force")
	assert.Error(t, run([]string{"--dir", qdir, "restore", "no-such-id"}, &out))
	assert.Error(t, run([]string{"--dir", qdir}, &out))
}

func TestListEmpty(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"--dir", filepath.Join(t.TempDir(), "none"), "list", "--json"}, &out))
	assert.JSONEq(t, "[]", out.String())
}
