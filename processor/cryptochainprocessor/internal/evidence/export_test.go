package evidence

import "go.opentelemetry.io/collector/pdata/plog"

// FromLogRecord decodes lr with a fresh Decoder into an Event of its own.
func FromLogRecord(lr plog.LogRecord) (Event, error) {
	var ev Event
	err := DecodeInto(lr, &ev)
	return ev, err
}

// DecodeInto decodes lr into ev (reset first), reusing nothing: what a decode costs without a Decoder.
func DecodeInto(lr plog.LogRecord, ev *Event) error {
	return decodeInto(lr, ev, nil)
}
