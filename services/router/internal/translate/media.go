package translate

import (
	"strings"
)

// dataURI splits "data:<media type>[;params];base64,<data>".
func dataURI(uri string) (mediaType, data string, ok bool) {
	rest, found := strings.CutPrefix(uri, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	params := strings.Split(meta, ";")
	if len(params) < 2 || params[len(params)-1] != "base64" || data == "" {
		return "", "", false
	}
	return strings.ToLower(strings.TrimSpace(params[0])), data, true
}

// imageSource maps an image_url value to an Anthropic source. The gateway
// never fetches URLs itself (that would be an SSRF surface): data: URIs are
// inlined, http(s) URLs are handed to the provider.
func imageSource(param, uri string) (*anthropicSource, *Error) {
	if mediaType, data, ok := dataURI(uri); ok {
		return &anthropicSource{Type: "base64", MediaType: mediaType, Data: data}, nil
	}
	if strings.HasPrefix(uri, "https://") || strings.HasPrefix(uri, "http://") {
		return &anthropicSource{Type: "url", URL: uri}, nil
	}
	return nil, invalidRequest(param+".image_url.url", "Image URLs must be http(s) URLs or base64 data: URIs.")
}

// fileSource maps a file part (inline PDF or text) to a base64 source.
func fileSource(param string, f *FileRef) (*anthropicSource, *Error) {
	if f == nil || f.FileData == "" {
		return nil, unsupported(param+".file", "Only inline file_data is supported for this provider; file_id uploads are not.")
	}
	mediaType, data, ok := dataURI(f.FileData)
	if !ok {
		mediaType, data = "application/pdf", f.FileData
	}
	if mediaType != "application/pdf" && mediaType != "text/plain" {
		return nil, invalidRequest(param+".file", "Files must be PDF or plain text, not %q.", mediaType)
	}
	return &anthropicSource{Type: "base64", MediaType: mediaType, Data: data}, nil
}
