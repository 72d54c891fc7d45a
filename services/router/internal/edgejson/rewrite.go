package edgejson

import (
	"unicode/utf8"
)

// RewriteModel returns a copy of body whose top-level "model" value is
// newModel; every other byte is kept as it was. body is scanned with the
// default Options first, so a body Scan rejects is rejected here too.
func RewriteModel(body []byte, newModel string) ([]byte, error) {
	req, err := Scan(body)
	if err != nil {
		return nil, err
	}
	return req.RewriteModel(body, newModel)
}

// RewriteModel is RewriteModel for a body this Request was scanned from,
// saving the second scan on the hot path. body must be that same, unmodified
// slice.
func (r *Request) RewriteModel(body []byte, newModel string) ([]byte, error) {
	if !r.HasModel {
		return nil, &Error{Code: CodeNoModel, Param: "model",
			Message: "You must provide a model parameter."}
	}
	if r.modelEnd > len(body) || r.modelEnd-r.modelStart < 2 ||
		body[r.modelStart] != '"' || body[r.modelEnd-1] != '"' {
		return nil, &Error{Code: CodeInvalidValue, Param: "model",
			Message: "The body does not match the scanned request."}
	}
	if !utf8.ValidString(newModel) {
		return nil, &Error{Code: CodeInvalidUTF8, Param: "model",
			Message: "The replacement model id is not valid UTF-8."}
	}
	out := make([]byte, 0, len(body)-(r.modelEnd-r.modelStart)+len(newModel)+8)
	out = append(out, body[:r.modelStart]...)
	out = appendQuoted(out, newModel)
	return append(out, body[r.modelEnd:]...), nil
}

// appendQuoted appends s as a JSON string. Only what JSON requires is
// escaped (no HTML escaping), so ids come out as readable as they went in.
func appendQuoted(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
