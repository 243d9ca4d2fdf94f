package cryptochainresponseexporter

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestErrorType(t *testing.T) {
	assert.Equal(t, "EPERM", errorType(fmt.Errorf("freeze: %w", &os.PathError{Op: "write", Path: "x", Err: syscall.EPERM})))
	assert.Equal(t, "*errors.errorString", errorType(errors.New("x")))
}
