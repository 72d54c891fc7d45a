package translate

// scanOpenAIUsage reads an OpenAI usage object (already proven valid JSON
// by the caller) without encoding/json, which cost ~5% of the edge's CPU
// on non-streamed chat at 1,000 req/s. ok is false for anything it does
// not read exactly as json.Unmarshal into openAIUsage would (a non-object,
// a token count that is not a plain integer): the caller then decodes.
func scanOpenAIUsage(usage []byte) (Usage, bool) {
	var u Usage
	if len(usage) == 0 || string(usage) == "null" {
		return u, true // as toUsage of a nil *openAIUsage
	}
	ok := true
	_, err := scanObject(usage, func(key []byte, start, end int) {
		v := usage[start:end]
		switch string(key) {
		case "prompt_tokens":
			ok = ok && scanInt(v, &u.PromptTokens)
		case "completion_tokens":
			ok = ok && scanInt(v, &u.CompletionTokens)
		case "prompt_tokens_details":
			ok = ok && scanDetail(v, "cached_tokens", &u.CachedTokens)
		case "completion_tokens_details":
			ok = ok && scanDetail(v, "reasoning_tokens", &u.ReasoningTokens)
		}
	})
	return u.normalize(), ok && err == nil
}

// scanDetail reads one integer member of a details object (or null).
func scanDetail(obj []byte, name string, dst *int64) bool {
	if string(obj) == "null" {
		return true
	}
	ok := true
	_, err := scanObject(obj, func(key []byte, start, end int) {
		if string(key) == name {
			ok = ok && scanInt(obj[start:end], dst)
		}
	})
	return ok && err == nil
}

// scanInt parses a JSON integer of at most 18 digits (no fraction or
// exponent), or null, which leaves dst as it is, as encoding/json does.
func scanInt(v []byte, dst *int64) bool {
	if string(v) == "null" {
		return true
	}
	neg := len(v) > 0 && v[0] == '-'
	digits := v
	if neg {
		digits = v[1:]
	}
	if len(digits) == 0 || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) {
		return false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	*dst = n
	return true
}
