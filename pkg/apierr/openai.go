package apierr

import "encoding/json"

// OpenAIBody renders the OpenAI error object every edge refusal and every
// mid-stream error event uses: {"error":{"message","type","param","code"}},
// with an empty param or code as null, as OpenAI sends them.
func OpenAIBody(message, errType, param, code string) []byte {
	var body struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	body.Error.Message, body.Error.Type = message, errType
	if param != "" {
		body.Error.Param = &param
	}
	if code != "" {
		body.Error.Code = &code
	}
	out, _ := json.Marshal(body)
	return out
}
