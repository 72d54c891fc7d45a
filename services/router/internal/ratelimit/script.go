package ratelimit

import "github.com/redis/go-redis/v9"

// The Lua below mirrors bucket.go operation for operation (same IEEE double
// arithmetic in the same order), so Memory and Redis agree exactly; the
// shared conformance tests hold both to that. Levels travel as %.17g strings
// because Redis truncates Lua numbers to integers in replies.
//
// KEYS[i] is scope i's hash. ARGV is now (Unix µs), an amount (tokens to
// reserve, or the settlement delta), the window in µs, then RPM and TPM for
// each scope.
const luaPrelude = `
local now = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local n = #KEYS
local rpm, tpm, req, tok, at = {}, {}, {}, {}, {}

local function refill(v, limit, elapsed)
  if limit <= 0 then return 0 end
  if v == nil then return limit end
  return math.min(limit, v + elapsed * limit / window)
end

local function fmt(v) return string.format('%.17g', v) end

local function load(i)
  rpm[i] = tonumber(ARGV[2 + 2 * i])
  tpm[i] = tonumber(ARGV[3 + 2 * i])
  local s = redis.call('HMGET', KEYS[i], 'r', 't', 'at')
  local last = tonumber(s[3]) or now
  local elapsed = math.max(now - last, 0)
  at[i] = math.max(now, last)
  req[i] = refill(tonumber(s[1]), rpm[i], elapsed)
  tok[i] = refill(tonumber(s[2]), tpm[i], elapsed)
end

local function missing(have, limit)
  if limit <= 0 or have >= limit then return 0 end
  return (limit - have) / limit
end

local function save(i)
  local fields = {'at', string.format('%.0f', at[i])}
  if rpm[i] > 0 then fields[#fields + 1] = 'r'; fields[#fields + 1] = fmt(req[i]) end
  if tpm[i] > 0 then fields[#fields + 1] = 't'; fields[#fields + 1] = fmt(tok[i]) end
  redis.call('HSET', KEYS[i], unpack(fields))
  local full = math.max(missing(req[i], rpm[i]), missing(tok[i], tpm[i]))
  redis.call('PEXPIRE', KEYS[i], math.ceil(full * window / 1000) + 1000)
end
`

// admitLua returns {allowed, r1, t1, ...}: levels after the admission when
// allowed, as found when denied (a denial writes nothing).
const admitLua = luaPrelude + `
local allowed = 1
for i = 1, n do
  load(i)
  if (rpm[i] > 0 and req[i] < 1) or (tpm[i] > 0 and tok[i] < amount) then allowed = 0 end
end
local out = {allowed}
for i = 1, n do
  if allowed == 1 then
    if rpm[i] > 0 then req[i] = req[i] - 1 end
    if tpm[i] > 0 then tok[i] = tok[i] - amount end
    save(i)
  end
  out[#out + 1] = fmt(req[i])
  out[#out + 1] = fmt(tok[i])
end
return out
`

// settleLua charges amount (positive) or refunds it (negative) on every
// token bucket, within [-TPM, TPM] like adjustTokens.
const settleLua = luaPrelude + `
for i = 1, n do
  load(i)
  if tpm[i] > 0 then
    tok[i] = math.max(-tpm[i], math.min(tpm[i], tok[i] - amount))
    save(i)
  end
end
return 1
`

var (
	admitScript  = redis.NewScript(admitLua)
	settleScript = redis.NewScript(settleLua)
)
