-- wrk script for bench/load.py: each wrk thread holds one connection and is one logged-in rep
-- doing the drill: GET /drill/, POST the answer, GET the feedback (or "practise more" when done).
-- LOAD_COOKIES names a file with one session cookie per line; LOAD_OUT is where done() writes
-- the status counts and the tokens of every answer acknowledged with a 303.

local cookies, threads, counter = {}, {}, 0

function setup(thread)
  if #cookies == 0 then
    for line in io.lines(os.getenv("LOAD_COOKIES")) do cookies[#cookies + 1] = line end
  end
  counter = counter + 1
  thread:set("cookie", cookies[(counter - 1) % #cookies + 1])
  table.insert(threads, thread)
end

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  statuses, answered = {}, {}
  next_request = { method = "GET", path = "/drill/" }
  pending = nil -- the token of the answer in flight
end

function request()
  local headers = { Cookie = cookie }
  if next_request.body then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  return wrk.format(next_request.method, next_request.path, headers, next_request.body)
end

local function form(fields)
  local parts = {}
  for _, pair in ipairs(fields) do parts[#parts + 1] = pair[1] .. "=" .. encode(pair[2]) end
  return table.concat(parts, "&")
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local set = headers["Set-Cookie"] or headers["set-cookie"]
  if set then cookie = set:match("^([^;]+)") end
  local was = next_request
  next_request = { method = "GET", path = "/drill/" }
  if was.path == "/drill/" and status == 200 then
    local csrf = body:match('name="csrf_token" value="([^"]+)"')
    local token = body:match('name="token" value="(%w+)"')
    if token and csrf then
      local fields = { { "csrf_token", csrf }, { "token", token } }
      if body:find('name="order"', 1, true) then
        local n = select(2, body:gsub('class="step"', ""))
        local order = {}
        for i = 1, n do order[i] = tostring(i) end
        fields[#fields + 1] = { "order", table.concat(order, " ") }
      else
        fields[#fields + 1] = { "choice", body:match('name="choice" value="([^"]+)"') }
      end
      pending = token
      next_request = { method = "POST", path = "/drill/answer", body = form(fields) }
    elseif csrf then
      next_request = { method = "POST", path = "/drill/more", body = form({ { "csrf_token", csrf } }) }
    end
  elseif was.path == "/drill/answer" and status == 303 then
    answered[#answered + 1] = pending
    local location = headers["Location"] or headers["location"] or ""
    next_request = { method = "GET", path = location:gsub("^https?://[^/]+", "") }
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("LOAD_OUT"), "w")
  out:write(string.format("requests %d\nduration_us %d\np50_us %d\np99_us %d\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99)))
  local e = summary.errors
  out:write(string.format("socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do out:write(string.format("status %d %d\n", status, count)) end
    for _, token in ipairs(thread:get("answered")) do out:write("answered " .. token .. "\n") end
  end
  out:close()
end
